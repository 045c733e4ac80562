"""Satisfaction surveys (SKM, PermenPAN-RB 14/2017): the questionnaire, invitations after a
completed application or on demand, answering step by step, the scheduled job, the IKM index
with its report and chart, and the feature's personal data."""
