"""The REST API and the dashboard over the gold layer (`weather-platform serve`)."""
