"""Members: role bindings, granted within the granter's scope."""
