"""The reader-study web app (FastAPI): rater pages under /r/TOKEN/, results under /admin/TOKEN/.

A rater's token opens only their own current case (page, clip, answer) and their own
progress; nothing a rater can reach names a case's class. Results need the admin token.
Unknown tokens get 404 (the same as any unknown path). Each request opens its own
SQLite connection; writes are short `BEGIN IMMEDIATE` transactions (see db.py).
"""
from __future__ import annotations

import re
import secrets
import socket
from pathlib import Path
from typing import Iterator

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ..errors import BadOption, UnreadableInput
from . import db
from .analyze import summarise
from .guard import BodyLimit, security_headers
from .report import PLOTS, answers_csv, plot_png

HERE = Path(__file__).parent
VERDICTS = {"real": False, "synthetic": True}


def create_app(study_dir: str | Path, max_body: int = 16 * 1024) -> FastAPI:
    study = Path(study_dir)
    media_dir = study / db.MEDIA_DIR
    check_media(study)  # fail early, with a clear message, on a non-study or incomplete folder
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app = FastAPI(title="sonosynth reader study", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, limit=max_body)
    app.middleware("http")(security_headers)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def conn() -> Iterator:
        c = db.connect(study / db.DB_NAME)
        try:
            yield c
        finally:
            c.close()

    def rater(token: str, c=Depends(conn)):
        row = db.rater_for_token(c, token)
        if row is None:
            raise HTTPException(404, "unknown invite link")
        return row

    def admin(token: str, c=Depends(conn)) -> None:
        expected = db.meta(c).get("admin_token", "")
        if not (expected and secrets.compare_digest(token.encode(), expected.encode())):
            raise HTTPException(404, "not found")

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return "<!doctype html><title>Reader study</title><p>Please open the invite link you were given.</p>"

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/r/{token}")
    def rater_redirect(token: str, r=Depends(rater)) -> RedirectResponse:
        return RedirectResponse(f"/r/{token}/", status_code=308)

    @app.get("/r/{token}/", response_class=HTMLResponse)
    def rater_page(request: Request, r=Depends(rater), c=Depends(conn)):
        done, total = db.rater_progress(c, r["id"])
        return templates.TemplateResponse(request, "rater.html", {"name": r["name"], "done": done, "total": total})

    @app.get("/r/{token}/api/next")
    def next_case(r=Depends(rater), c=Depends(conn)) -> dict:
        row = db.serve_next(c, r["id"])
        done, total = db.rater_progress(c, r["id"])
        if row is None:
            return {"done": True, "answered": done, "total": total}
        return {"done": False, "answered": done, "total": total, "case": row["media_id"],
                "video": f"media/{row['media_id']}.mp4"}

    @app.post("/r/{token}/api/answer")
    def answer(case: str = Form(..., max_length=64), verdict: str = Form(..., max_length=16),
               confidence: int = Form(...), realism: int = Form(...), r=Depends(rater), c=Depends(conn)):
        if verdict not in VERDICTS or confidence not in db.CONFIDENCE_LEVELS or not 1 <= realism <= 5:
            raise HTTPException(400, "verdict must be real or synthetic, confidence 1-3, realism 1-5")
        outcome = db.record_answer(c, r["id"], case, VERDICTS[verdict], confidence, realism)
        done, total = db.rater_progress(c, r["id"])
        return JSONResponse({"message": outcome.message, "answered": done, "total": total}, status_code=outcome.status)

    @app.get("/r/{token}/media/{name}")
    def clip(name: str, r=Depends(rater), c=Depends(conn)) -> Response:
        cur = db.current_case(c, r["id"])
        if cur is None or cur["served_at"] is None or name != f"{cur['media_id']}.mp4":
            raise HTTPException(404, "not found")
        if not (media_dir / name).is_file():  # removed while serving: a 404, not a 500 with a traceback
            raise HTTPException(404, "not found")
        resp = MediaResponse(media_dir / name, media_type="video/mp4")
        resp.headers["cache-control"] = "private, max-age=3600"
        return resp

    @app.get("/admin/{token}")
    def admin_redirect(token: str, _=Depends(admin)) -> RedirectResponse:
        return RedirectResponse(f"/admin/{token}/", status_code=308)

    @app.get("/admin/{token}/", response_class=HTMLResponse)
    def admin_page(request: Request, _=Depends(admin), c=Depends(conn)):
        summary = summarise(db.all_answers(c), db.progress(c))
        return templates.TemplateResponse(request, "admin.html", {"s": summary, "plots": PLOTS})

    @app.get("/admin/{token}/api/summary")
    def admin_summary(_=Depends(admin), c=Depends(conn)) -> dict:
        return summarise(db.all_answers(c), db.progress(c))

    @app.get("/admin/{token}/answers.csv")
    def admin_csv(_=Depends(admin), c=Depends(conn)) -> Response:
        return Response(answers_csv(db.all_answers(c)), media_type="text/csv",
                        headers={"content-disposition": 'attachment; filename="answers.csv"'})

    @app.get("/admin/{token}/plots/{name}.png")
    def admin_plot(name: str, _=Depends(admin), c=Depends(conn)) -> Response:
        if name not in PLOTS:
            raise HTTPException(404, "not found")
        return Response(plot_png(name, summarise(db.all_answers(c), db.progress(c))), media_type="image/png")

    return app


class MediaResponse(FileResponse):
    """A study clip with no ETag or Last-Modified: made from the file's mtime and size (the same for every clip
    of a study, but a clip copied or touched would stand out). FileResponse sets them only as it sends."""

    def set_stat_headers(self, stat_result) -> None:
        self.headers.setdefault("content-length", str(stat_result.st_size))


def check_media(study_dir: str | Path) -> None:
    """Every case's clip must be in STUDY/media, or raters would meet broken cases mid-study."""
    study = Path(study_dir)
    conn = db.open_study(study, read_only=True)
    try:
        names = [f"{r['media_id']}.mp4" for r in conn.execute("SELECT media_id FROM cases ORDER BY id")]
    finally:
        conn.close()
    missing = [n for n in names if not (study / db.MEDIA_DIR / n).is_file()]
    if missing:
        raise UnreadableInput(f"{len(missing)} of {len(names)} study clips are missing from {study / db.MEDIA_DIR} "
                              f"(first: {missing[0]}); restore them or create the study again")


def check_address(host: str, port: int) -> None:
    """Bind and release host:port so a busy port or unknown host is one clear line, before any link is printed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as e:
        raise BadOption(f"cannot listen on {host}:{port}: unknown host ({getattr(e, 'strerror', None) or e})") from e
    family, kind, proto, _, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            s.bind(address)
    except OSError as e:
        raise BadOption(f"cannot listen on {host}:{port}: {e.strerror or e}") from e


def links(study_dir: str | Path, base_url: str) -> tuple[str, list[tuple[str, str]]]:
    """The admin link and (name, invite link) for each rater."""
    conn = db.open_study(study_dir, read_only=True)
    try:
        admin_token = db.meta(conn)["admin_token"]
        invites = [(r["name"], f"{base_url}/r/{r['token']}/") for r in db.raters(conn)]
    finally:
        conn.close()
    return f"{base_url}/admin/{admin_token}/", invites


def serve(study_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, base_url: str | None = None) -> None:
    """Run the study server until interrupted; prints the links (the only place tokens are shown)."""
    import uvicorn

    from .guard import quiet_tokens_in_logs

    if base_url is not None and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", base_url):
        raise BadOption(f"--base-url must be an http:// or https:// address such as https://study.example.org, "
                        f"not {base_url!r}")
    app = create_app(study_dir)
    check_address(host, port)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", server_header=False, proxy_headers=False)
    quiet_tokens_in_logs()
    base = (base_url or f"http://{host}:{port}").rstrip("/")
    admin_link, invites = links(study_dir, base)
    print(f"Admin (results): {admin_link}")
    for name, link in invites:
        print(f"Invite {name}: {link}")
    print("Keep these links private: each one is the only key to its page.", flush=True)
    uvicorn.Server(config).run()
