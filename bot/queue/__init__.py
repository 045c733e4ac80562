"""Queue booking with priority service: booking a visit, the call at the counter, the
waiting-room board, closures and disruption notices (issue 17)."""
