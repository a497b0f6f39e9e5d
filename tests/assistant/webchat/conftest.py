from tests.assistant.api.conftest import app_settings, client, keys, model, services

__all__ = ["app_settings", "client", "keys", "model", "services"]
