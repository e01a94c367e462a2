"""The chat's screens, one a module: the chat, the source viewer, the help, the conversation list."""

from ui.screens.chat import ChatScreen
from ui.screens.conversation_list import ConversationsScreen
from ui.screens.help import HelpScreen
from ui.screens.source import SourceScreen

__all__ = ["ChatScreen", "ConversationsScreen", "HelpScreen", "SourceScreen"]
