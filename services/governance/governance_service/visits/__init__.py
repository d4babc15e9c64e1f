"""Door-to-door services (上门服务): a cadre's visit to a household, recorded with who went."""
