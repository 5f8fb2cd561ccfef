from __future__ import annotations

from tests.conftest import CRM_TASK, Api


async def test_create_and_read_progress(api: Api) -> None:
    created = await api.client.post("/api/tasks", json=CRM_TASK, headers=api.auth())
    assert created.status == 201
    doc = await created.json()
    progress = await api.client.get(f"/api/tasks/{doc['task_id']}/progress", headers=api.auth())
    assert progress.status == 200
    assert (await progress.json())["title"] == "Cellphone Store CRM"
