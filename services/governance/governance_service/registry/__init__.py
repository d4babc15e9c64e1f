"""The registry: areas (province to building), households (建档立卡 / 同步搬迁) and their
residents. Every other part of the service reads areas and households through its store."""
