"""Questions and answers: the office's knowledge base (knowledge), matching a citizen's words
to a service and topic (matching), and the answers rendered from it (answers)."""
