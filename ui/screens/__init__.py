"""The chat's screens, one a module: the chat, the source viewer, the help, the conversation list,
the skipped files, the folder picker."""

from ui.screens.chat import ChatScreen
from ui.screens.conversation_list import ConversationsScreen
from ui.screens.folder_picker import FolderScreen
from ui.screens.help import HelpScreen
from ui.screens.skipped_files import SkippedFilesScreen
from ui.screens.source import SourceScreen

__all__ = ["ChatScreen", "ConversationsScreen", "FolderScreen", "HelpScreen", "SkippedFilesScreen", "SourceScreen"]
