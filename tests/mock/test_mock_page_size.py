"""listOrdersByPartner's pageSize as CONTRACT.md states it: default and maximum 20000, never rejected when out of range."""

from __future__ import annotations

import pytest

from mockclient import Api


@pytest.mark.parametrize("size", ["0", "-5", "20001", "999999"])
def test_an_out_of_range_page_size_is_taken_as_20000(api: Api, size: str) -> None:
    answer = api.list(api.mock.partner_id, pageSize=size)
    assert answer.status_code == 200, answer.text
    assert answer.json()["morePages"] is False


@pytest.mark.parametrize("size", ["ten", ""])
def test_a_page_size_that_is_not_a_number_is_a_400(api: Api, size: str) -> None:
    answer = api.list(api.mock.partner_id, pageSize=size)
    assert answer.status_code == 400
    assert answer.json()["code"] == "generic_error"


@pytest.mark.parametrize("key", ["¹9", "٣", "x1", "-1"])
def test_a_page_key_that_is_not_ascii_digits_is_a_400_not_a_500(api: Api, key: str) -> None:
    """"¹9".isdigit() is true but int() refuses it: seen as a 500 by otacm verify's stateful phase."""
    answer = api.list(api.mock.partner_id, pageKey=key)
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"code": "generic_error",
                             "message": "pageKey is not valid: pass the nextPageKey of the previous page"}
