"""Offers realise options: where each catalogued offer processes data, whose law
reaches its operator, which accreditations cover it, and whether it meets an
option's constraints.

An option (``cloud_gpu``, ``regional_api``, ...) is a kind of deployment; the
priced offers of catalog/cloud_gpu_offers.yaml and catalog/api_offers.yaml
realise it. Rules narrow the offers that may (constraints); costing prices only
the offers that remain. Everything here is pure: catalog data and resolved
constraints in, offer ids out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advisor.catalog.costdata import ApiOffer, Catalog, CloudOffer
from advisor.catalog.jurisdictions import Home, Jurisdictions
from advisor.catalog.options import Option
from advisor.countries import country_of

ConstraintKind = Literal["processing", "exposure", "accreditation"]


@dataclass(frozen=True)
class OfferLocation:
    id: str
    catalog: Literal["cloud_gpu", "api"]
    provider: str
    #: countries where data is processed; None = anywhere or not stated
    processing: frozenset[str] | None
    exposure: frozenset[str]
    accreditations: frozenset[str]


@dataclass(frozen=True)
class Requirement:
    """One resolved constraint: the offer's attribute must lie within ``allowed``
    (processing, exposure) or hold one of ``allowed`` (accreditation)."""

    kind: ConstraintKind
    allowed: frozenset[str]

    def met_by(self, offer: OfferLocation) -> bool:
        if self.kind == "processing":
            return offer.processing is not None and offer.processing <= self.allowed
        if self.kind == "exposure":
            return offer.exposure <= self.allowed
        return bool(offer.accreditations & self.allowed)

    def describe(self, names: list[str] | None = None) -> str:
        shown = ", ".join(names if names is not None else sorted(self.allowed)) or "nothing"
        if self.kind == "processing":
            return f"processing only in {shown}"
        if self.kind == "exposure":
            return f"operator under the law of {shown} only"
        return f"accredited under {shown.replace(', ', ' or ')}"


def _api_processing(offer: ApiOffer, jurisdictions: Jurisdictions) -> frozenset[str] | None:
    if offer.processing_countries is not None:
        return jurisdictions.expand(offer.processing_countries)
    if offer.residency == "eu":
        return jurisdictions.members("EEA")
    if offer.residency in ("us", "cn"):
        return frozenset({offer.residency.upper()})
    return None


def cloud_location(oid: str, offer: CloudOffer) -> OfferLocation:
    exposure = offer.legal_exposure or [offer.provider_country]
    return OfferLocation(oid, "cloud_gpu", offer.provider,
                         frozenset({country_of(offer.region_country)}) if offer.region_country else None,
                         frozenset(country_of(c) for c in exposure), frozenset(offer.accreditations))


def api_location(oid: str, offer: ApiOffer, jurisdictions: Jurisdictions,
                 regional_in: frozenset[str] | None = None) -> OfferLocation:
    """An API offer's location; ``regional_in`` is the region a regional-residency
    option pins a global offer to (costing prices that variant with an uplift)."""
    processing = _api_processing(offer, jurisdictions)
    if processing is None and regional_in is not None:
        processing = regional_in
    exposure = offer.legal_exposure or [offer.provider_country]
    return OfferLocation(oid, "api", offer.provider, processing,
                         frozenset(country_of(c) for c in exposure), frozenset(offer.accreditations))


def realising_offers(option: Option, catalog: Catalog, jurisdictions: Jurisdictions, home: Home,
                     option_processing: frozenset[str] | None,
                     option_exposure: frozenset[str]) -> list[OfferLocation] | None:
    """The catalogued offers that are this kind of option for this organisation;
    None for options the organisation operates itself (no offer needed)."""
    kind = option.location.offers
    if kind == "own":
        return None
    out: list[OfferLocation] = []
    if kind in ("api", "composite"):
        regional = option_processing if kind == "api" else None
        out += [api_location(oid, o, jurisdictions, regional) for oid, o in catalog.api_offers.items()]
    if kind in ("cloud_gpu", "composite"):
        foreign_kind = bool(home.foreign(option_exposure))
        for oid, offer in catalog.cloud_offers.items():
            if option.price_proxies is not None and offer.provider not in option.price_proxies:
                continue
            loc = cloud_location(oid, offer)
            # An option whose operators are foreign (a US hyperscaler for a German
            # bank) is realised by foreign offers; one under home law (a sovereign
            # cloud) by offers under home law only.
            if kind == "cloud_gpu" and bool(home.foreign(loc.exposure)) != foreign_kind:
                continue
            out.append(loc)
    return out


def meeting(offers: list[OfferLocation], requirements: list[Requirement]) -> list[OfferLocation]:
    return [o for o in offers if all(r.met_by(o) for r in requirements)]

