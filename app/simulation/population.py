"""Simulated buyers replayed from a recorded log, each with a hidden price response.

Every (user, item) pair that the log shows with a priced view or cart becomes one
``BuyerPair``: the user sees a price at each of those events and decides to buy or not at
the last one. The decision follows a two-step response:

- interest: the user wants the item at all with probability ``interest``;
- willingness to pay: an interested user buys when the offered price is at most
  ``wtp = list_price * exp(wtp_level + wtp_spread * e)``, where ``e`` is a standard
  logistic draw.

So ``P(buy | price) = interest * sigmoid((wtp_level - log(price / list_price)) / wtp_spread)``.
What the log calibrates: which users see which items when, the list prices, the share of
viewed pairs bought at list price (separately for pairs with and without a cart event,
scaled per category), and each user's price level (how far above or below their
categories' median prices the viewed items are). What it cannot measure, because the
recorded prices barely change, is how buyers react to other prices: the spread and level of
willingness to pay come from ``PopulationAssumptions``, stated in docs/pricing.md.

Realised draws (interest and willingness to pay) are fixed per pair by the seed, so every
policy faces exactly the same buyers (common random numbers).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.logs import LogEvent

__all__ = [
    "BuyerPair",
    "Calibration",
    "Population",
    "PopulationAssumptions",
    "PopulationError",
    "ReplayEvent",
    "build_population",
]


class PopulationError(ValueError):
    """A log cannot calibrate a population; ``problem`` names what it lacks."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class PopulationAssumptions:
    """Parameters of the hidden price response that a log with fixed prices cannot measure.

    ``wtp_spread`` is the scale of log(willingness to pay / list price) among interested
    users; the price sensitivity is its inverse. Each user's spread is lognormal with
    median ``wtp_spread_median`` and log standard deviation ``wtp_spread_dispersion``.
    Each user's ``wtp_level`` is ``wtp_level_base + wtp_price_level_weight * price_level
    + wtp_level_noise * normal``, where ``price_level`` is the user's measured price level
    (clipped to [-1, 1]). ``category_prior_pairs`` is the weight, in pairs, of the overall
    purchase rate when a category's own rate is estimated. ``max_interest`` caps interest.
    """

    wtp_spread_median: float = 0.25
    wtp_spread_dispersion: float = 0.35
    wtp_level_base: float = 0.0
    wtp_price_level_weight: float = 0.5
    wtp_level_noise: float = 0.15
    category_prior_pairs: float = 50.0
    max_interest: float = 0.95

    def __post_init__(self) -> None:
        positive = {
            "wtp_spread_median": self.wtp_spread_median,
            "category_prior_pairs": self.category_prior_pairs,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0.0):
                msg = f"'{name}' must be a finite number > 0 (got {value!r})"
                raise ValueError(msg)
        non_negative = {
            "wtp_spread_dispersion": self.wtp_spread_dispersion,
            "wtp_price_level_weight": self.wtp_price_level_weight,
            "wtp_level_noise": self.wtp_level_noise,
        }
        for name, value in non_negative.items():
            if not (math.isfinite(value) and value >= 0.0):
                msg = f"'{name}' must be a finite number >= 0 (got {value!r})"
                raise ValueError(msg)
        if not math.isfinite(self.wtp_level_base):
            msg = f"'wtp_level_base' must be a finite number (got {self.wtp_level_base!r})"
            raise ValueError(msg)
        if not (0.0 < self.max_interest <= 1.0):
            msg = f"'max_interest' must be in (0, 1] (got {self.max_interest!r})"
            raise ValueError(msg)


@dataclass(frozen=True)
class ReplayEvent:
    """One replayed view or cart event; ``pair`` is set when the event shows a price."""

    index: int  # position in the replay, which is in event-time order
    user_id: str
    item_id: str
    event_type: str  # "view" | "cart" | "remove_from_cart"
    time_s: float  # event time, Unix seconds
    price: float | None  # list price shown, None when the log has none
    category: str | None
    seconds_since_previous: float | None  # gap to the user's previous replayed event
    pair: int | None  # index into Population.pairs, None for events without a price
    decides: bool  # the pair's last priced event: the buyer decides on this offer


@dataclass(frozen=True)
class BuyerPair:
    """One user considering one item: hidden response parameters and their realised draws."""

    user_id: str
    item_id: str
    category: str | None
    list_price: float  # list price at the deciding event
    carted: bool  # the log shows a cart event for this pair
    logged_purchase: bool  # the log shows this user buying this item
    price_level: float  # the user's measured price level, log of price / category median
    interest: float  # probability that the user wants the item at all
    wtp_level: float  # location of log(willingness to pay / list price)
    wtp_spread: float  # scale of log(willingness to pay / list price), > 0
    interested: bool  # realised interest
    wtp: float  # realised willingness to pay, currency units

    @property
    def curve_intercept(self) -> float:
        """Logit of buying at list price for an interested user."""
        return self.wtp_level / self.wtp_spread

    @property
    def curve_slope(self) -> float:
        """Change of that logit per unit of log(price / list price); always < 0."""
        return -1.0 / self.wtp_spread

    def purchase_probability(self, price: float) -> float:
        """Return the probability, before the draws, that the user buys at ``price``."""
        logit = self.curve_intercept + self.curve_slope * math.log(price / self.list_price)
        return self.interest * _sigmoid(logit)

    def buys(self, price: float) -> bool:
        """Return whether the realised user buys at ``price``."""
        return self.interested and self.wtp >= price


@dataclass(frozen=True)
class Calibration:
    """Figures measured on the log that the population reproduces."""

    users: int
    pairs: int
    carted_pairs: int
    logged_purchases: int  # pairs with a logged purchase
    view_only_rate: float  # share of pairs without a cart event that were bought
    carted_rate: float  # share of pairs with a cart event that were bought
    categories: int
    mean_list_acceptance: float  # mean over pairs of P(wtp >= list | interested)
    expected_list_conversion: float  # mean over pairs of P(buy at list price)


@dataclass(frozen=True)
class Population:
    """The replayed events and buyer pairs of one seeded simulation."""

    events: tuple[ReplayEvent, ...]
    pairs: tuple[BuyerPair, ...]
    calibration: Calibration
    assumptions: PopulationAssumptions
    seed: int


def build_population(
    log_events: Sequence[LogEvent],
    seed: int,
    assumptions: PopulationAssumptions | None = None,
    max_users: int | None = None,
) -> Population:
    """Build the seeded population of ``log_events``, keeping the first ``max_users`` users.

    Logged purchases calibrate the interest and are left out of the replay, because in the
    simulation each policy's prices decide who buys. Raises PopulationError when the log
    has no priced views or carts, or no purchases.
    """
    assumptions = assumptions or PopulationAssumptions()
    ordered = sorted(enumerate(log_events), key=lambda pair: (pair[1].time_s, pair[0]))
    events = [event for _, event in ordered]
    if max_users is not None:
        first_users = _first_users(events, max_users)
        events = [event for event in events if event.sequence_id in first_users]

    purchased = {(e.sequence_id, e.item_id) for e in events if e.event_type == "purchase"}
    browsing = [e for e in events if e.event_type != "purchase"]
    priced = [e for e in browsing if e.price is not None]
    if not priced:
        msg = "the log has no view or cart events with a price; the simulator needs prices"
        raise PopulationError(msg)
    if not purchased:
        msg = "the log has no purchase events; the simulator calibrates interest on purchases"
        raise PopulationError(msg)

    # Pairs in order of their first priced event; the last priced event decides.
    pair_index: dict[tuple[str, str], int] = {}
    last_event: dict[tuple[str, str], int] = {}
    carted: set[tuple[str, str]] = set()
    for position, event in enumerate(browsing):
        key = (event.sequence_id, event.item_id)
        if event.event_type == "cart":
            carted.add(key)
        if event.price is not None:
            pair_index.setdefault(key, len(pair_index))
            last_event[key] = position
    keys = list(pair_index)
    deciding = {position: key for key, position in last_event.items()}

    price_levels = _price_levels(priced)
    users = list(dict.fromkeys(key[0] for key in keys))
    rates = _purchase_rates(keys, carted, purchased, browsing, assumptions)

    # The draws: two per user, then two per pair, so they depend only on the seed and order.
    rng = np.random.default_rng(seed)
    spread_draws = rng.standard_normal(len(users))
    level_draws = rng.standard_normal(len(users))
    interest_draws = rng.random(len(keys))
    wtp_draws = rng.logistic(size=len(keys))

    spreads = {
        user: assumptions.wtp_spread_median
        * math.exp(assumptions.wtp_spread_dispersion * float(spread_draws[i]))
        for i, user in enumerate(users)
    }
    levels = {
        user: assumptions.wtp_level_base
        + assumptions.wtp_price_level_weight * max(-1.0, min(1.0, price_levels.get(user, 0.0)))
        + assumptions.wtp_level_noise * float(level_draws[i])
        for i, user in enumerate(users)
    }
    acceptance = [_sigmoid(levels[user] / spreads[user]) for user, _ in keys]
    mean_acceptance = float(np.mean(acceptance))

    list_prices = {key: browsing[position].price for key, position in last_event.items()}
    categories = {key: browsing[position].category for key, position in last_event.items()}
    pairs = []
    for i, key in enumerate(keys):
        user, item = key
        list_price = list_prices[key]
        assert list_price is not None  # only priced events are pair events
        interest = min(assumptions.max_interest, rates[i] / mean_acceptance)
        level = levels[user]
        spread = spreads[user]
        pairs.append(
            BuyerPair(
                user_id=user,
                item_id=item,
                category=categories[key],
                list_price=list_price,
                carted=key in carted,
                logged_purchase=key in purchased,
                price_level=price_levels.get(user, 0.0),
                interest=interest,
                wtp_level=level,
                wtp_spread=spread,
                interested=bool(interest_draws[i] < interest),
                wtp=list_price * math.exp(level + spread * float(wtp_draws[i])),
            )
        )

    replay = []
    previous_time: dict[str, float] = {}
    for position, event in enumerate(browsing):
        key = (event.sequence_id, event.item_id)
        gap = None
        if event.sequence_id in previous_time:
            gap = event.time_s - previous_time[event.sequence_id]
        previous_time[event.sequence_id] = event.time_s
        replay.append(
            ReplayEvent(
                index=position,
                user_id=event.sequence_id,
                item_id=event.item_id,
                event_type=event.event_type,
                time_s=event.time_s,
                price=event.price,
                category=event.category,
                seconds_since_previous=gap,
                pair=pair_index[key] if event.price is not None else None,
                decides=deciding.get(position) == key,
            )
        )

    view_only = [i for i, key in enumerate(keys) if key not in carted]
    with_cart = [i for i, key in enumerate(keys) if key in carted]
    calibration = Calibration(
        users=len(users),
        pairs=len(keys),
        carted_pairs=len(with_cart),
        logged_purchases=sum(1 for key in keys if key in purchased),
        view_only_rate=_share(sum(1 for i in view_only if keys[i] in purchased), len(view_only)),
        carted_rate=_share(sum(1 for i in with_cart if keys[i] in purchased), len(with_cart)),
        categories=len({categories[key] for key in keys}),
        mean_list_acceptance=mean_acceptance,
        expected_list_conversion=float(
            np.mean([pair.purchase_probability(pair.list_price) for pair in pairs])
        ),
    )
    return Population(
        events=tuple(replay),
        pairs=tuple(pairs),
        calibration=calibration,
        assumptions=assumptions,
        seed=seed,
    )


def _first_users(events: Sequence[LogEvent], max_users: int) -> set[str]:
    if max_users < 1:
        msg = f"'max_users' must be >= 1 (got {max_users})"
        raise ValueError(msg)
    users = dict.fromkeys(event.sequence_id for event in events)
    return set(list(users)[:max_users])


def _price_levels(priced: Sequence[LogEvent]) -> dict[str, float]:
    """Return each user's mean log(price / median price of the item's category)."""
    prices: dict[str | None, list[float]] = defaultdict(list)
    for event in priced:
        assert event.price is not None
        prices[event.category].append(event.price)
    medians = {category: float(np.median(values)) for category, values in prices.items()}
    ratios: dict[str, list[float]] = defaultdict(list)
    for event in priced:
        assert event.price is not None
        if event.category is None:
            continue
        ratios[event.sequence_id].append(math.log(event.price / medians[event.category]))
    return {user: float(np.mean(values)) for user, values in ratios.items()}


def _purchase_rates(
    keys: Sequence[tuple[str, str]],
    carted: set[tuple[str, str]],
    purchased: set[tuple[str, str]],
    browsing: Sequence[LogEvent],
    assumptions: PopulationAssumptions,
) -> list[float]:
    """Return each pair's purchase rate at list price.

    The rate is the pair's funnel stage rate (with or without a cart event) times its
    category's rate relative to the overall rate; small categories are shrunk towards the
    overall rate with the weight of ``category_prior_pairs`` pairs.
    """
    category_of = {(e.sequence_id, e.item_id): e.category for e in browsing}
    overall = _share(sum(1 for key in keys if key in purchased), len(keys))
    stage_pairs = {False: 0, True: 0}
    stage_buys = {False: 0, True: 0}
    category_pairs: dict[str | None, int] = defaultdict(int)
    category_buys: dict[str | None, int] = defaultdict(int)
    for key in keys:
        bought = key in purchased
        stage_pairs[key in carted] += 1
        stage_buys[key in carted] += bought
        category_pairs[category_of[key]] += 1
        category_buys[category_of[key]] += bought
    stage_rate = {
        stage: _share(stage_buys[stage], stage_pairs[stage]) if stage_pairs[stage] else overall
        for stage in (False, True)
    }
    prior = assumptions.category_prior_pairs
    rates = []
    for key in keys:
        category = category_of[key]
        shrunk = (category_buys[category] + prior * overall) / (category_pairs[category] + prior)
        rates.append(stage_rate[key in carted] * shrunk / overall)
    return rates


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def _sigmoid(logit: float) -> float:
    if logit >= 0.0:
        return 1.0 / (1.0 + math.exp(-logit))
    odds = math.exp(logit)
    return odds / (1.0 + odds)
