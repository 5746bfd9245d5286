"""Code shared by booru and the daemons: configuration, logging, the booru client, the daemon loop."""
