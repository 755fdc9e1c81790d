"""The venue's catalog, read from YAML: items, kinds, prices, admission hours."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CATALOG = Path(__file__).parents[1] / "data" / "catalog.yaml"


@dataclass(frozen=True)
class Coupon:
    item_number: str
    description: str


@dataclass(frozen=True)
class CatalogItem:
    number: str
    description: str
    kind: str  # individual | group | package
    price_excl_vat: float
    price_incl_vat: float
    opens: str
    closes: str
    capacity: int
    components: tuple[str, ...] = ()
    coupons: tuple[Coupon, ...] = field(default_factory=tuple)

    @property
    def is_package(self) -> bool:
        return self.kind == "package"

    def wallets_for(self, quantity: int) -> int:
        """Expected wallets on a line (docs/000): a group is one wallet."""
        return 1 if self.kind == "group" else quantity

    def admits_at(self, visit_time: str) -> bool:
        return self.opens <= visit_time <= self.closes


@dataclass(frozen=True)
class Catalog:
    venue: str
    currency: str
    items: dict[str, CatalogItem]

    @classmethod
    def load(cls, path: Path | str = DEFAULT_CATALOG) -> "Catalog":
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
        items = {str(number): _item(str(number), data) for number, data in raw["items"].items()}
        catalog = cls(raw["venue"], raw["currency"], items)
        catalog._check_components()
        return catalog

    def get(self, number: str) -> CatalogItem | None:
        return self.items.get(number)

    def _check_components(self) -> None:
        for item in self.items.values():
            missing = [c for c in item.components if c not in self.items]
            if missing:
                raise ValueError(f"catalog: package {item.number} names unknown components {missing}")


def _item(number: str, data: dict[str, Any]) -> CatalogItem:
    return CatalogItem(
        number=number,
        description=data["description"],
        kind=data["kind"],
        price_excl_vat=data["priceExclVat"],
        price_incl_vat=data["priceInclVat"],
        opens=data["opens"],
        closes=data["closes"],
        capacity=data["capacity"],
        components=tuple(str(c) for c in data.get("components", [])),
        coupons=tuple(Coupon(str(c["itemNumber"]), c["description"]) for c in data.get("coupons", [])),
    )
