"""The pages: the blueprint's views, their forms and the htmx helpers. Views call services only."""
