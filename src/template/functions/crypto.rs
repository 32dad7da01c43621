//! Hash functions of syslog-ng's cryptofuncs: `md5`, `sha1`, `sha256`, `sha512`, `hash`
//! (sha256), each with `--length N` to keep the first N hex digits, and `uuid`.

use std::sync::Arc;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::options::{self, OptSpec, Parsed};
use super::{
    Args, FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction,
    TemplateFunction,
};
use crate::template::Template;

#[derive(Clone, Copy, Debug)]
enum Algo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

pub(crate) fn register(r: &mut FunctionRegistry) {
    r.register("md5", Arc::new(Hash(Algo::Md5)));
    r.register("sha1", Arc::new(Hash(Algo::Sha1)));
    r.register("sha256", Arc::new(Hash(Algo::Sha256)));
    r.register("sha512", Arc::new(Hash(Algo::Sha512)));
    r.register("hash", Arc::new(Hash(Algo::Sha256)));
    r.register("md4", Arc::new(Md4));
    r.register("uuid", Arc::new(Uuid));
}

struct Hash(Algo);

#[derive(Debug)]
struct HashPrepared {
    algo: Algo,
    length: usize,
    args: Vec<Template>,
}

const HASH_OPTS: &[OptSpec] = &[OptSpec {
    long: "length",
    short: Some('l'),
    value: true,
}];

impl TemplateFunction for Hash {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        let mut length = 0usize;
        let mut rest = Vec::new();
        for p in options::parse(call.args, HASH_OPTS)? {
            match p {
                Parsed::Opt(_, Some(v)) => {
                    length = usize::try_from(options::int_value("length", &v)?).unwrap_or(0);
                }
                Parsed::Opt(_, None) => {}
                Parsed::Arg(a) => rest.push(a),
            }
        }
        Ok(Box::new(HashPrepared {
            algo: self.0,
            length,
            args: call.compile_args(&rest)?,
        }))
    }
}

fn digest_hex<D: Digest>(args: &[Vec<u8>], out: &mut Vec<u8>, length: usize) {
    let mut d = D::new();
    for a in args {
        d.update(a);
    }
    let sum = d.finalize();
    let start = out.len();
    for b in sum.iter() {
        out.push(b"0123456789abcdef"[usize::from(b >> 4)]);
        out.push(b"0123456789abcdef"[usize::from(b & 15)]);
    }
    if length > 0 && start + length < out.len() {
        out.truncate(start + length);
    }
}

impl PreparedFunction for HashPrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let args = Args::render(&self.args, inv);
        let a = args.get();
        match self.algo {
            Algo::Md5 => digest_hex::<Md5>(a, out, self.length),
            Algo::Sha1 => digest_hex::<Sha1>(a, out, self.length),
            Algo::Sha256 => digest_hex::<Sha256>(a, out, self.length),
            Algo::Sha512 => digest_hex::<Sha512>(a, out, self.length),
        }
    }
}

/// `$(md4)` does not exist in the OpenSSL 3 build syslog-ng 3.38 ships with.
struct Md4;

impl TemplateFunction for Md4 {
    fn prepare(&self, _call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        Err("MD4 hash function is not available starting with OpenSSL 3.0.".into())
    }
}

/// `$(uuid)`: a random (version 4) UUID per call.
struct Uuid;

#[derive(Debug)]
struct UuidPrepared;

impl TemplateFunction for Uuid {
    fn prepare(&self, _call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        Ok(Box::new(UuidPrepared))
    }
}

impl PreparedFunction for UuidPrepared {
    fn call(&self, _inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let mut buf = uuid::Uuid::encode_buffer();
        let s = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        out.extend_from_slice(s.as_bytes());
    }
}
