"""Where failed runs are announced: a Slack-compatible webhook, when one is configured."""

import dagster as dg
import requests


class AlertWebhookResource(dg.ConfigurableResource):
    """The URL is an EnvVar (ALERT_WEBHOOK_URL): webhook URLs carry their token, so the UI shows the name only."""

    url: str | None = None

    def post(self, message: dict[str, str]) -> int | None:
        """POST the message; the HTTP status, or None when no webhook is configured."""
        if not self.url:
            return None
        return requests.post(self.url, json=message, timeout=10).status_code
