"""Examples of extending the engine without touching it (README, "Add your own experiment")."""
