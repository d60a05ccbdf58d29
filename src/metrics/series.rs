//! The layer's metric handles, registered once per label set and kept, so a
//! request costs atomic updates rather than a registry lookup per metric.
//!
//! The `metrics` macros build a [`metrics::Key`] (allocating its label list)
//! and ask the recorder for a handle on every call. Kept handles skip that.
//! A label set is found by a 64-bit hash of its values; the stored values
//! are compared too, and on the rare collision the handles are registered
//! afresh for that request instead of shared.

use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;
use metrics::{Counter, Gauge, Histogram, Label};

use super::names::{self, label};

/// A `u64` key is already a hash: use it as is.
#[derive(Default)]
pub(crate) struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in all the same.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type Map<V> = DashMap<u64, V, BuildHasherDefault<PreHashed>>;

/// The in-flight gauge and request size of one method and route.
pub(crate) struct RouteSeries {
    method: &'static str,
    route: Box<str>,
    pub(crate) active: Gauge,
    pub(crate) request_size: Histogram,
}

/// What is recorded when an answer ends, per method, route, status and
/// provider.
pub(crate) struct AnswerSeries {
    method: &'static str,
    route: Box<str>,
    status: u16,
    provider: Box<str>,
    pub(crate) requests: Counter,
    pub(crate) duration: Histogram,
    pub(crate) response_size: Histogram,
}

/// Token counts and time to first token, per provider and model.
pub(crate) struct ModelSeries {
    provider: Box<str>,
    model: Box<str>,
    pub(crate) input: Histogram,
    pub(crate) output: Histogram,
    pub(crate) first_token: Histogram,
}

struct RejectionSeries {
    kind: &'static str,
    route: Box<str>,
    counter: Counter,
}

/// Every handle the layer has registered.
pub(crate) struct Series {
    hasher: foldhash::fast::FixedState,
    routes: Map<RouteSeries>,
    answers: Map<AnswerSeries>,
    models: Map<ModelSeries>,
    rejections: Map<RejectionSeries>,
    /// Distinct model names seen; past `max_models`, models are `other`.
    model_names: AtomicUsize,
    max_models: usize,
}

/// The label value of an answer without a provider.
pub(crate) const NO_PROVIDER: &str = "none";
/// The model label past the bound on distinct models, or for a model name
/// that is not a plain identifier.
pub(crate) const OTHER_MODEL: &str = "other";
/// The model label when the response did not name one.
pub(crate) const UNKNOWN_MODEL: &str = "unknown";

fn labels<const N: usize>(pairs: [(&'static str, &str); N]) -> Vec<Label> {
    pairs
        .into_iter()
        .map(|(key, value)| Label::new(key, value.to_owned()))
        .collect()
}

impl Series {
    pub(crate) fn new(max_models: usize) -> Self {
        Self {
            hasher: foldhash::fast::FixedState::with_seed(0x5eed_5a9c),
            routes: Map::default(),
            answers: Map::default(),
            models: Map::default(),
            rejections: Map::default(),
            model_names: AtomicUsize::new(0),
            max_models,
        }
    }

    fn hash(&self, parts: &[&[u8]], number: u64) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        for part in parts {
            hasher.write(part);
            // Separates `ab`+`c` from `a`+`bc`.
            hasher.write_u8(0xff);
        }
        hasher.write_u64(number);
        hasher.finish()
    }

    /// Runs `f` on the route series of `method` and `route`.
    pub(crate) fn with_route<R>(
        &self,
        method: &'static str,
        route: &str,
        f: impl FnOnce(&RouteSeries) -> R,
    ) -> R {
        let key = self.hash(&[method.as_bytes(), route.as_bytes()], 0);
        cached(
            &self.routes,
            key,
            |s| s.method == method && &*s.route == route,
            || {
                let labels = labels([(label::METHOD, method), (label::ROUTE, route)]);
                RouteSeries {
                    method,
                    route: route.into(),
                    active: metrics::gauge!(names::ACTIVE_REQUESTS, labels.iter()),
                    request_size: metrics::histogram!(names::REQUEST_BODY_SIZE, labels.iter()),
                }
            },
            f,
        )
    }

    /// Runs `f` on the answer series of these labels.
    pub(crate) fn with_answer<R>(
        &self,
        method: &'static str,
        route: &str,
        status: u16,
        provider: &str,
        f: impl FnOnce(&AnswerSeries) -> R,
    ) -> R {
        let key = self.hash(
            &[method.as_bytes(), route.as_bytes(), provider.as_bytes()],
            u64::from(status),
        );
        cached(
            &self.answers,
            key,
            |s| {
                s.status == status
                    && s.method == method
                    && &*s.route == route
                    && &*s.provider == provider
            },
            || {
                let labels = labels([
                    (label::METHOD, method),
                    (label::ROUTE, route),
                    (label::STATUS, itoa::Buffer::new().format(status)),
                    (label::PROVIDER, provider),
                ]);
                AnswerSeries {
                    method,
                    route: route.into(),
                    status,
                    provider: provider.into(),
                    requests: metrics::counter!(names::REQUESTS, labels.iter()),
                    duration: metrics::histogram!(names::REQUEST_DURATION, labels.iter()),
                    response_size: metrics::histogram!(names::RESPONSE_BODY_SIZE, labels.iter()),
                }
            },
            f,
        )
    }

    /// Runs `f` on the model series of `provider` and `model` (`None`: the
    /// response did not name its model).
    pub(crate) fn with_model<R>(
        &self,
        provider: &str,
        model: Option<&str>,
        f: impl FnOnce(&ModelSeries) -> R,
    ) -> R {
        let model = match model {
            None => UNKNOWN_MODEL,
            Some(model) if is_model_name(model) => model,
            Some(_) => OTHER_MODEL,
        };
        let key = self.hash(&[provider.as_bytes(), model.as_bytes()], 1);
        let same = |s: &ModelSeries| &*s.provider == provider && &*s.model == model;
        let make = || {
            let labels = labels([(label::PROVIDER, provider), (label::MODEL, model)]);
            let tokens = |kind: &'static str| {
                let mut labels = labels.clone();
                labels.push(Label::new(label::TOKEN_TYPE, kind));
                metrics::histogram!(names::TOKEN_USAGE, labels)
            };
            ModelSeries {
                provider: provider.into(),
                model: model.into(),
                input: tokens("input"),
                output: tokens("output"),
                first_token: metrics::histogram!(names::TIME_TO_FIRST_TOKEN, labels.iter()),
            }
        };
        if [UNKNOWN_MODEL, OTHER_MODEL].contains(&model) {
            // Fixed values: no bound to keep.
            return cached(&self.models, key, same, make, f);
        }
        if let Some(series) = self.models.get(&key) {
            if same(&series) {
                return f(&series);
            }
            // Another label set holds this hash: count it as `other`
            // rather than register a new label set on every call.
            drop(series);
            return self.with_model(provider, Some(OTHER_MODEL), f);
        }
        match self.models.entry(key) {
            dashmap::Entry::Occupied(entry) if same(entry.get()) => f(entry.get()),
            dashmap::Entry::Occupied(entry) => {
                drop(entry);
                self.with_model(provider, Some(OTHER_MODEL), f)
            }
            dashmap::Entry::Vacant(entry) => {
                // A new name takes one of the bounded places, under the
                // shard's lock, so two requests for it take one place.
                if self.model_names.fetch_add(1, Ordering::Relaxed) >= self.max_models {
                    self.model_names.fetch_sub(1, Ordering::Relaxed);
                    drop(entry);
                    return self.with_model(provider, Some(OTHER_MODEL), f);
                }
                f(&entry.insert(make()).downgrade())
            }
        }
    }

    /// Counts a rejection of `kind` on `route`.
    pub(crate) fn rejected(&self, kind: &'static str, route: &str) {
        let key = self.hash(&[kind.as_bytes(), route.as_bytes()], 2);
        cached(
            &self.rejections,
            key,
            |s| s.kind == kind && &*s.route == route,
            || RejectionSeries {
                kind,
                route: route.into(),
                counter: metrics::counter!(
                    names::REJECTIONS,
                    labels([(label::KIND, kind), (label::ROUTE, route)])
                ),
            },
            |s| s.counter.increment(1),
        )
    }
}

/// Runs `f` on the series stored under `key`, registering it on first use.
/// When another label set holds the key (a hash collision), `f` gets
/// handles registered for this call alone.
fn cached<V, R>(
    map: &Map<V>,
    key: u64,
    same: impl Fn(&V) -> bool,
    make: impl Fn() -> V,
    f: impl FnOnce(&V) -> R,
) -> R {
    if let Some(series) = map.get(&key) {
        return if same(&series) {
            f(&series)
        } else {
            f(&make())
        };
    }
    let series = map.entry(key).or_insert_with(&make).downgrade();
    if same(&series) {
        f(&series)
    } else {
        f(&make())
    }
}

/// Whether a model name is a plain identifier fit for a label (providers'
/// names are: letters, digits, `.-_:/@`, at most 100 bytes).
fn is_model_name(model: &str) -> bool {
    !model.is_empty()
        && model.len() <= 100
        && model
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:/@".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_fit_for_labels() {
        assert!(is_model_name("claude-sonnet-4-5-20250929"));
        assert!(is_model_name("gpt-4o-mini"));
        assert!(is_model_name("meta-llama/Llama-3.1-8B-Instruct"));
        assert!(!is_model_name(""));
        assert!(!is_model_name("gpt 4"));
        assert!(!is_model_name(&"a".repeat(101)));
    }
}
