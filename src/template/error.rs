//! Compile errors, with the byte position in the template text so the config layer can point
//! a caret at it.

/// Why a template does not compile. The messages are syslog-ng 3.38's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// `${NAME` without its `}`.
    #[error("Invalid macro, '}}' is missing")]
    MissingBrace {
        /// Where syslog-ng points: the end of the template.
        pos: usize,
    },
    /// `${NAME:x}`: only `:-` (a default value) is known.
    #[error("Unknown substitution function")]
    UnknownSubstitution {
        /// The character after the colon.
        pos: usize,
    },
    /// `$(` without a matching `)`, or an unterminated quote in the arguments.
    #[error("Invalid template function reference, missing function name or imbalanced '('")]
    UnbalancedFunction {
        /// Where scanning stopped.
        pos: usize,
    },
    /// `$(name ...)` with a name nobody registered.
    #[error("Unknown template function \"{name}\"")]
    UnknownFunction {
        /// The function name.
        name: String,
        /// The `$` of the call.
        pos: usize,
    },
    /// The function refused its arguments (the message is the function's own).
    #[error("{message}")]
    Function {
        /// The function name.
        name: String,
        /// What it said.
        message: String,
        /// The `$` of the call.
        pos: usize,
    },
}

impl CompileError {
    /// Byte offset in the template text the error refers to.
    pub fn position(&self) -> usize {
        match self {
            CompileError::MissingBrace { pos }
            | CompileError::UnknownSubstitution { pos }
            | CompileError::UnbalancedFunction { pos }
            | CompileError::UnknownFunction { pos, .. }
            | CompileError::Function { pos, .. } => *pos,
        }
    }

    /// The same error with its position moved by `by` (an error in an argument template is
    /// reported relative to the outer template).
    pub(crate) fn shifted(mut self, by: usize) -> CompileError {
        match &mut self {
            CompileError::MissingBrace { pos }
            | CompileError::UnknownSubstitution { pos }
            | CompileError::UnbalancedFunction { pos }
            | CompileError::UnknownFunction { pos, .. }
            | CompileError::Function { pos, .. } => *pos += by,
        }
        self
    }
}
