"""Resident requests (民情实事) through the 四单 loop: 群众点单 → 社区派单 → 网格员接单 → 办结 →
党组织评单, with reopening, 吹哨/报到, deadlines per step and the escalation chain a missed
deadline climbs, watched by the deadline scheduler."""
