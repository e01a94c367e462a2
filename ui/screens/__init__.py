"""The chat's screens, one a module: the chat, the source viewer, the help, the conversation list,
the skipped files."""

from ui.screens.chat import ChatScreen
from ui.screens.conversation_list import ConversationsScreen
from ui.screens.help import HelpScreen
from ui.screens.skipped_files import SkippedFilesScreen
from ui.screens.source import SourceScreen

__all__ = ["ChatScreen", "ConversationsScreen", "HelpScreen", "SkippedFilesScreen", "SourceScreen"]
