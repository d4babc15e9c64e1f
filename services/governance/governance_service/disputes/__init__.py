"""Dispute mediation (矛盾纠纷调解): registered with masked parties, mediation sessions, an outcome
(调解成功 / 调解不成 / 移交) and a deadline the scheduler watches."""
