"""callhooks: receive, verify and route Catapult call callbacks."""
