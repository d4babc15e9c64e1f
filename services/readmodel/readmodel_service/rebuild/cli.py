"""The `readmodel-service rebuild` command: a rebuild with a progress bar."""

from __future__ import annotations

from readmodel_service.config import Settings
from readmodel_service.events import CONSUMED_TOPICS
from readmodel_service.rebuild.service import rebuild


async def run_rebuild(settings: Settings) -> int:
    from tqdm import tqdm

    from relocation_shared.mongo import make_client

    client = make_client(settings.mongodb_uri, app_name="readmodel-rebuild")
    bar = tqdm(total=0, unit="事件", desc="重建视图", dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        generation = await rebuild(
            client=client,
            db=client[settings.mongodb_database],
            bootstrap=settings.kafka_bootstrap_servers,
            topics=CONSUMED_TOPICS,
            progress=progress,
        )
    finally:
        bar.close()
        await client.close()
    print(f"rebuilt into generation {generation} and switched over")
    return generation
