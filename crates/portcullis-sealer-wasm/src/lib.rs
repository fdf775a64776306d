//! AES-256-GCM sealing for the isolation frame, as a WebAssembly module with no imports.
//!
//! The frame's JavaScript (`isolation-app/sealer.js`, class `WasmAead`) talks to it
//! through one buffer in the module's memory:
//! - `key()`: the 32 key bytes at the start of the buffer become the module's key; the
//!   buffer's copy is overwritten with zeros before it returns.
//! - `seal(aad_len, len)`: the buffer holds the 12-byte nonce, then `aad_len` bytes of
//!   associated data, then `len` bytes of plaintext; the plaintext is encrypted in place
//!   and the 16-byte tag written right after it. Returns 1, or 0 when there is no key or
//!   the lengths do not fit the buffer (nothing is written then).
//! - `forget()`: drops the key (its memory is zeroed).
//!
//! WebAssembly runs one thread per instance here: the cells below are never shared.

#![no_std]

use core::cell::UnsafeCell;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

/// The buffer's size: the nonce, up to 512 bytes of associated data, up to 7,536 bytes of
/// plaintext and the tag. The frame seals larger messages with WebCrypto.
const IO_LEN: usize = 8192;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

struct Cell<T>(UnsafeCell<T>);

// SAFETY: a WebAssembly instance without shared memory runs on one thread; every access
// is from an exported function, which the engine never re-enters.
unsafe impl<T> Sync for Cell<T> {}

static IO: Cell<[u8; IO_LEN]> = Cell(UnsafeCell::new([0; IO_LEN]));
static CIPHER: Cell<Option<Aes256Gcm>> = Cell(UnsafeCell::new(None));

/// Where the buffer starts in the module's memory.
#[unsafe(no_mangle)]
pub extern "C" fn io() -> *mut u8 {
    IO.0.get().cast()
}

/// The buffer's length.
#[unsafe(no_mangle)]
pub extern "C" fn io_len() -> usize {
    IO_LEN
}

/// Takes the key from the buffer's first 32 bytes and zeroes them.
#[unsafe(no_mangle)]
pub extern "C" fn key() -> u32 {
    // SAFETY: single-threaded and not re-entered (see `Cell`).
    let (io, cipher) = unsafe { (&mut *IO.0.get(), &mut *CIPHER.0.get()) };
    let made = Aes256Gcm::new_from_slice(&io[..32]).ok();
    io[..32].fill(0);
    let ok = made.is_some();
    *cipher = made;
    u32::from(ok)
}

/// Seals the plaintext in the buffer in place (see the module's documentation).
#[unsafe(no_mangle)]
pub extern "C" fn seal(aad_len: usize, len: usize) -> u32 {
    // SAFETY: single-threaded and not re-entered (see `Cell`).
    let (io, cipher) = unsafe { (&mut *IO.0.get(), &*CIPHER.0.get()) };
    let Some(cipher) = cipher else { return 0 };
    let Some(end) = NONCE_LEN
        .checked_add(aad_len)
        .and_then(|n| n.checked_add(len))
        .filter(|&n| n.checked_add(TAG_LEN).is_some_and(|total| total <= IO_LEN))
    else {
        return 0;
    };
    let (nonce, rest) = io.split_at_mut(NONCE_LEN);
    let (aad, rest) = rest.split_at_mut(aad_len);
    let (message, rest) = rest.split_at_mut(len);
    let Ok(nonce) = Nonce::try_from(&nonce[..]) else { return 0 };
    match cipher.encrypt_inout_detached(&nonce, aad, message.into()) {
        Ok(tag) => {
            rest[..TAG_LEN].copy_from_slice(&tag);
            debug_assert!(end + TAG_LEN <= IO_LEN);
            1
        }
        Err(_) => 0,
    }
}

/// Drops the key; the cipher's key schedule is zeroed as it drops.
#[unsafe(no_mangle)]
pub extern "C" fn forget() {
    // SAFETY: single-threaded and not re-entered (see `Cell`).
    unsafe { *CIPHER.0.get() = None };
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
