//! A cost entry's model and its price at the entry's hour: resolved once per distinct
//! run model, assistant (for `--model`) and hour, then looked up by code.

use super::{Price, Pricing};
use crate::agg::groups::ModelFrom;
use crate::agg::ledger::{Entry, Ledger};
use crate::agg::runs::NONE;
use crate::agg::RunTable;
use crate::batch::BATCH_MODEL;
// Hashed with foldhash (`hashbrown`'s default): a key per entry is hashed, and SipHash was
// a visible share of pricing a spilled partition.
use hashbrown::HashMap;

/// A model's price at an hour: the price, the base model it was found under (a snapshot
/// the table lacks), and the first date the table prices it from when that is later.
pub(super) type InForce<'a> = (Price, Option<&'a str>, Option<i64>);

/// What an entry's steps are priced at.
pub(super) enum Found<'a> {
    /// No run object, `--model` or `--default-model` names a model.
    NoModel,
    /// The model (a code of [`Resolver::models`]) the table lacks.
    Unknown(u32),
    /// The model, where it came from, and its price in force.
    Priced(u32, ModelFrom, InForce<'a>),
}

/// Resolves entries of one ledger, whose runs are rows of one run table.
pub(super) struct Resolver<'a> {
    pricing: &'a Pricing,
    ledger: &'a Ledger,
    runs: &'a RunTable,
    /// Models by local code.
    pub models: Vec<&'a str>,
    code_of: HashMap<&'a str, u32>,
    /// Per model code of the run table, and per assistant code of the ledger (the last
    /// for none): the local model, once resolved.
    by_run_model: Vec<Option<u32>>,
    by_flag: Vec<Option<Option<(u32, ModelFrom)>>>,
    /// Per local model: its dated prices in the table (looked up once; `None` inside
    /// for a model the table lacks), the base model they are listed under, and whether
    /// it is a batch response's (priced at half). An entry's price is then found among
    /// the model's few dates, with no hashing: the entries of a million responses name
    /// their models and hours in every combination.
    schedules: Vec<Option<Schedule<'a>>>,
}

/// A model's dated prices, the base model they are listed under, and whether they are
/// halved (the Batch API's rate).
type Schedule<'a> = Option<(&'a [super::table::Dated], Option<&'a str>, bool)>;

impl<'a> Resolver<'a> {
    /// For the entries of `ledger`, filed under rows of `runs`.
    pub fn new(pricing: &'a Pricing, ledger: &'a Ledger, runs: &'a RunTable) -> Resolver<'a> {
        Resolver {
            pricing,
            ledger,
            runs,
            models: Vec::new(),
            code_of: HashMap::new(),
            by_run_model: vec![None; runs.models_len()],
            by_flag: vec![None; ledger.names_len() + 1],
            schedules: Vec::new(),
        }
    }

    /// The local code of model `name`.
    fn local(&mut self, name: &'a str) -> u32 {
        let models = &mut self.models;
        *self.code_of.entry(name).or_insert_with(|| {
            models.push(name);
            models.len() as u32 - 1
        })
    }

    /// The model and price of `e`'s steps.
    pub fn resolve(&mut self, e: &Entry) -> Found<'a> {
        let run_model = (e.run != NONE)
            .then(|| self.runs.model_code(e.run))
            .flatten();
        let resolved = match run_model {
            Some(c) => {
                let m = match self.by_run_model[c as usize] {
                    Some(m) => m,
                    None => {
                        let m = self.local(self.runs.model_name(c));
                        self.by_run_model[c as usize] = Some(m);
                        m
                    }
                };
                Some((m, ModelFrom::Run))
            }
            None => {
                let slot = if e.assistant == NONE {
                    self.by_flag.len() - 1
                } else {
                    e.assistant as usize
                };
                match self.by_flag[slot] {
                    Some(found) => found,
                    None => {
                        let found = self
                            .pricing
                            .models
                            .of(None, self.ledger.name(e.assistant))
                            .map(|(m, from)| (self.local(m), from));
                        self.by_flag[slot] = Some(found);
                        found
                    }
                }
            }
        };
        let Some((m, from)) = resolved else {
            return Found::NoModel;
        };
        let mu = m as usize;
        if mu >= self.schedules.len() {
            self.schedules.resize(mu + 1, None);
        }
        let schedule = match self.schedules[mu] {
            Some(s) => s,
            None => {
                // A batch response's model: its list price, halved.
                let name = self.models[mu];
                let (name, batch) = match name.strip_suffix(BATCH_MODEL) {
                    Some(base) => (base, true),
                    None => (name, false),
                };
                let s = self
                    .pricing
                    .table
                    .schedule(name)
                    .map(|(dates, base)| (dates, base, batch));
                self.schedules[mu] = Some(s);
                s
            }
        };
        let found = schedule.map(|(dates, base, batch)| {
            let at = i64::from(e.hour) * 3600;
            let d = super::table::in_force(dates, at);
            let before = d.from.filter(|&f| f > at);
            let price = if batch { d.price.batch() } else { d.price };
            (price, base, before)
        });
        match found {
            Some(in_force) => Found::Priced(m, from, in_force),
            None => Found::Unknown(m),
        }
    }
}
