//! Rendering with miette, at the edge only.
