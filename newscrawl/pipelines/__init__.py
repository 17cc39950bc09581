"""Item pipelines, one concern each, in the order settings.ITEM_PIPELINES runs them:
extract (HTML → article fields), validate (is it a storable article?), store
(deduplicate and write)."""
