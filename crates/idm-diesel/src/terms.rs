//! Terms and consents adapter.

use idm_ports::terms::TermsRepo;

use crate::Store;

impl TermsRepo for Store {}
