"""The web app: REST API, live websocket and the dispatcher's console.

Entry points: `web.app.create_app(settings)` (the ASGI app) and `web.server.run_web(settings)`
(uvicorn, wired as `fleet web`).
"""
