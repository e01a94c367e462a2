"""The Textual chat over the `qa` library (`qa chat`). `ui.app.run_chat` is the entry point."""
