"""The feed of latest events: which event types officials follow (with their labels; the
plumbing is left out) and which payload fields an entry shows."""

from __future__ import annotations

from relocation_shared.events import EventPayload
from relocation_shared.mongo import Doc

EVENT_LABELS: dict[str, str] = {
    "governance.area_registered": "区域登记",
    "governance.household_registered": "搬迁户登记",
    "governance.resident_registered": "居民登记",
    "governance.resident_updated": "劳动能力变更",
    "governance.resident_moved_out": "居民迁出",
    "employment.worker_employed": "登记就业",
    "employment.employment_ended": "结束就业",
    "employment.training_completed": "完成培训",
    "employment.household_labour_changed": "家庭劳动力变化",
    "employment.household_zero_employment_raised": "零就业家庭预警",
    "employment.household_zero_employment_cleared": "零就业家庭清零",
    "governance.request_submitted": "群众点单",
    "governance.request_dispatched": "社区派单",
    "governance.request_accepted": "网格员接单",
    "governance.request_resolved": "诉求办结",
    "governance.request_rated": "党组织评单",
    "governance.request_reopened": "群众异议,重新办理",
    "governance.request_overdue": "诉求逾期",
    "governance.request_escalated": "吹哨上报",
    "governance.request_reported": "部门报到",
    "governance.dispute_registered": "矛盾纠纷登记",
    "governance.dispute_mediated": "矛盾纠纷调解",
    "governance.visit_recorded": "上门服务",
    "governance.points_awarded": "积分发放",
    "governance.points_redeemed": "积分兑换",
    "projects.project_approved": "项目批复",
    "projects.funds_allocated": "追加安排资金",
    "projects.status_changed": "项目状态变更",
    "projects.funds_disbursed": "资金拨付",
    "projects.dividend_paid": "项目分红",
    "projects.collective_income_recorded": "集体经济收入",
    "projects.collective_asset_recorded": "集体资产登记",
    "projects.payment_reversed": "冲正",
    "projects.job_linked": "项目带动就业",
    "projects.job_unlinked": "项目就业结束",
}


def feed_detail(p: EventPayload) -> Doc:
    keep = (
        "employment_type",
        "monthly_wage",
        "employer",
        "course",
        "kind",
        "name",
        "labour_count",
        "cause",
        "category",
        "score",
        "service",
        "amount_fen",
        "to_status",
        "successful",
    )
    data = p.model_dump(mode="json")
    return {k: data[k] for k in keep if k in data}
