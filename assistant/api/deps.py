"""Named dependencies for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from assistant.settings import Settings
from assistant.wiring import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
