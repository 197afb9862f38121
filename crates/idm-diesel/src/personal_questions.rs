//! Personal questions adapter.

use idm_ports::personal_questions::PersonalQuestionRepo;

use crate::Store;

impl PersonalQuestionRepo for Store {}
