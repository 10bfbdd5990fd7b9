//! The LLM layer against real servers: a scripted fault-injecting HTTP server (429 with
//! Retry-After, 5xx, 401, 404, a hang past the timeout, a stream cut mid-way, invalid JSON,
//! fenced JSON, Anthropic-shaped replies), and the real llama.cpp server with SmolLM2 for
//! completions, streaming and the three roles. Plus the prompt guarantees (no hidden case
//! text in the clinician prompt, no key in any exchange record).
//!
//! One file per area: `fault_server` and `smol` are the two servers; the others are tests.

mod best_of;
mod client;
mod driver;
pub(crate) mod fault_server;
mod figures;
mod prompt_guarantees;
mod role_turns;
pub(crate) mod smol;
mod smollm2;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use bedside::engine::case::Case;
use bedside::engine::encounter::{Config, Encounter, EndReason, EntryKind, Input, Turn};
use bedside::llm::client::Client;
use bedside::llm::driver::{Driver, PlayConfig, PlayError, PlayState, Players};
use bedside::llm::error::ErrorKind;
use bedside::llm::prompts;
use bedside::llm::protocol::Fallback;
use bedside::llm::roles::{self, LlmExchange};
use bedside::llm::settings::{ApiKey, ProviderKind, ProviderSettings, Role};
use bedside::llm::transport::{block_on, Cancel, NativeTransport};
use bedside::llm::{Chat, Message};

use crate::support;

use fault_server::*;
use role_turns::model_encounter;
use smol::*;
