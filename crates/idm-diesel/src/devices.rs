//! Dispatch targets, app attestations and FIDO UAF adapter.

use idm_ports::devices::DeviceRepo;

use crate::Store;

impl DeviceRepo for Store {}
