"""Greg: aggregates subreddits into booru submissions and links."""
