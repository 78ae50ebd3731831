"""The one Dagster `Definitions` of the platform: assets, checks, resources, jobs, schedules and sensors."""

import dagster as dg

defs = dg.Definitions()
