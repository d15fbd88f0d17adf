def test_smoke(testapp, staff):
    r = testapp.get("/api/v1/admin/plugins", headers=staff.headers)
    print(r.json)
    r = testapp.post_json("/api/v1/admin/plugins/beta/install", {}, headers=staff.headers)
    print(r.json)
    r = testapp.get("/api/v1/alpha/items")
    print(r.json)
