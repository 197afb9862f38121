//! # idm-server
//!
//! The outer layer: actix-web routes and DTOs, the single mapping from errors to HTTP,
//! configuration, the CLI and the wiring of the adapters. Handlers are thin: extract, call one
//! use case, map the result.

pub mod app;
pub mod audit;
pub mod doc;
pub mod dto;
pub mod error;
pub mod extract;
pub mod fixtures;
pub mod healthcheck;
pub mod jwks;
pub mod limits;
pub mod listing;
pub mod metrics;
pub mod openapi;
pub mod paging;
pub mod request_id;
pub mod routes;
pub mod seed;
pub mod settings;
pub mod ship;
pub mod state;
pub mod validate;

pub use app::{start, Running, StartOptions};
pub use settings::Settings;
