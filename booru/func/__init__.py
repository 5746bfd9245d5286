"""Plain functions behind the HTTP resources and the CLI: everything booru does to the database."""
