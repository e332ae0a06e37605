//! The network as Burn modules: hidden ("latent") layers and the decision layer are
//! [`burn::nn::Linear`]; the activation and its inverse; the shared forward pass; saving and
//! loading.

mod activation;
mod forward;
mod network;
pub mod outdir;
mod output;
mod store;

pub use activation::Activation;
pub use forward::{Activations, LayerParams, forward_from, forward_layers, row_normalize};
pub use network::{Ngmnn, NgmnnConfig};
pub use output::{OutputFile, refuse_inside, write_output};
pub use store::{SavedModel, write_atomic};
