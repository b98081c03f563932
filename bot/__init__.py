"""playbook-bot: answers questions about commercialising open source from a knowledge base."""

__version__ = "0.1.0"
