"""Shared dependencies: the settings, the one ``Assistant`` and the ``Store`` of this app instance.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, and three thread
hops per request for an attribute lookup cost measurable CPU under load."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from assistant.service import Assistant
from assistant.settings import Settings
from assistant.store import Store


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


async def get_store(request: Request) -> Store:
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
StoreDep = Annotated[Store, Depends(get_store)]
