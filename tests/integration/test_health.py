from config import load_config
from tests.support.processes import free_port
from webapp import create_app


def test_healthz_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_names_redis_when_it_is_down(database_url):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=dead_redis,
                     RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["failing"] == ["redis"]
    assert ready.json["checks"]["database"] == "ok"
    assert client.get("/healthz").status_code == 200


def test_readyz_names_the_database_when_it_is_down(redis_url, tmp_path):
    app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x",
                     REDIS_URL=redis_url)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["failing"] == ["database"]


def test_unknown_page_is_a_finished_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not Found" in response.get_data(as_text=True)
    assert "<html" in response.get_data(as_text=True)


def test_unknown_api_path_is_a_stripe_shaped_json_404(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["type"] == "invalid_request_error"
    assert response.json["error"]["code"] == "resource_missing"
    assert "message" in response.json["error"]
