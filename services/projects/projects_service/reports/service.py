"""Use cases of the reports: an area's summary (by source kind and in total), a community's
collective economy, and the projects of an area."""

from __future__ import annotations

from collections import defaultdict

from projects_service.ledger.collective import checked_community
from projects_service.money import Money
from projects_service.projects.models import Project
from projects_service.projects.repository import ProjectsStore
from projects_service.reports.domain import SOURCE_KINDS, TOTAL, Tally
from projects_service.reports.models import CommunityCollective, Figures, SourceKindFigures, Summary
from projects_service.reports.repository import ReportsStore
from projects_service.rules import area_path_of
from relocation_shared.context import Context
from relocation_shared.events.projects import SOURCE_KIND_LABELS, PaymentKind, ProjectStatus, Recipient, SourceKind
from relocation_shared.mongo import Doc


class ReportsService:
    def __init__(self, *, reports: ReportsStore, projects: ProjectsStore) -> None:
        self.reports = reports
        self.projects = projects

    async def summary(self, *, ctx: Context, area: str) -> Summary:
        """Every figure recomputed from the records of the area: projects and allocations from
        their collections, money paid from the ledger (net of reversals), households benefiting
        from the household dividends; jobs are the projects' counts of open linked spells.
        Projects, money and jobs are placed at the project's area, dividends and collective
        income at the community or household that received them."""
        path = area_path_of(area)
        ctx.principal.require_area(path, field="area")
        tally = Tally()
        tally.add_projects(await self.reports.project_rows(area))
        tally.add_allocations(await self.reports.allocation_totals(area))
        tally.add_budgets(await self.reports.budget_totals(area))
        tally.add_ledger((await self.reports.ledger_totals(area))[0])
        tally.add_households(*await self.reports.households_benefiting(area))
        return Summary(
            area=area,
            area_path=list(path),
            by_source_kind=[
                SourceKindFigures(source_kind=SourceKind(k), label=SOURCE_KIND_LABELS[SourceKind(k)], **tally.fields(k))
                for k in SOURCE_KINDS
            ],
            total=Figures(**tally.fields(TOTAL)),
            projects_by_status=tally.by_status,
            projects_by_chain=dict(tally.by_chain),
        )

    async def community_collective(self, *, ctx: Context, community_code: str) -> CommunityCollective:
        path = checked_community(community_code)
        ctx.principal.require_visible(path, "社区")
        totals = {
            (r["_id"]["kind"], r["_id"].get("recipient")): r["fen"]
            for r in await self.reports.community_totals(community_code)
        }
        by_year = await self.reports.community_income_by_year(community_code)

        def total(kind: PaymentKind, recipient: Recipient | None = None) -> Money:
            return Money.of(totals.get((kind.value, recipient.value if recipient else None), 0))

        return CommunityCollective(
            community_code=community_code,
            area_path=path,
            collective_income=total(PaymentKind.COLLECTIVE_INCOME),
            income_by_year={str(r["_id"]): Money.of(r["fen"]) for r in sorted(by_year, key=lambda r: r["_id"])},
            collective_assets=total(PaymentKind.COLLECTIVE_ASSET),
            dividends_to_collective=total(PaymentKind.DIVIDEND, Recipient.COLLECTIVE),
            dividends_to_households=total(PaymentKind.DIVIDEND, Recipient.HOUSEHOLD),
        )

    async def list_projects(
        self, *, ctx: Context, area: str, status: ProjectStatus | None, chain: str | None, after: str | None, limit: int
    ) -> list[Project]:
        ctx.principal.require_area(area_path_of(area), field="area")
        docs = await self.projects.list_projects(
            area=area, status=status.value if status else None, chain=chain, after=after, limit=limit
        )
        allocations: dict[str, list[Doc]] = defaultdict(list)
        for a in await self.projects.allocations_of([d["_id"] for d in docs], None):
            allocations[a["project_id"]].append(a)
        return [Project.from_docs(d, allocations[d["_id"]]) for d in docs]
