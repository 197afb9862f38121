//! Personal questions adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::PersonalQuestion;
use idm_ports::personal_questions::PersonalQuestionRepo;
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::rows::{cursor_of, keyset, lang, meta, parse, Db};
use crate::schema::{clients, personal_questions};
use crate::versioned::{columns_of, joined, versioned_update};
use crate::{Store, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = personal_questions)]
pub(crate) struct QuestionRow {
    id: i64,
    client_id: i64,
    ext_id: String,
    description: Option<String>,
    state: String,
    display_name: String,
    content: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl QuestionRow {
    pub(crate) fn into_domain(self, client_ext_id: String) -> R<PersonalQuestion> {
        Ok(PersonalQuestion {
            client_id: self.client_id,
            client_ext_id,
            description: self.description,
            state: parse(&self.state, "personal question state")?,
            display_name: lang(&self.display_name)?,
            content: lang(&self.content)?,
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
        })
    }
}

/// The columns a personal question update may change; also the body of its insert.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = personal_questions, treat_none_as_null = true, treat_none_as_default_value = false)]
struct QuestionValues<'a> {
    description: Option<&'a str>,
    state: &'a str,
    display_name: String,
    content: String,
}

impl<'a> QuestionValues<'a> {
    fn of(q: &'a PersonalQuestion) -> Self {
        QuestionValues {
            description: q.description.as_deref(),
            state: q.state.as_str(),
            display_name: q.display_name.to_storage(),
            content: q.content.to_storage(),
        }
    }
}

/// A new personal question row: owner and identity columns plus [`QuestionValues`].
#[derive(Insertable)]
#[diesel(table_name = personal_questions, treat_none_as_default_value = false)]
struct NewQuestion<'a> {
    client_id: i64,
    ext_id: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: QuestionValues<'a>,
}

/// What RETURNING hands back for a question: its row and its client's extId.
macro_rules! question_returning {
    () => {
        (
            columns_of::<QuestionRow>(),
            joined!(clients::ext_id, personal_questions::client_id),
        )
    };
}

fn returned((row, client_ext_id): (QuestionRow, String)) -> R<PersonalQuestion> {
    row.into_domain(client_ext_id)
}

#[async_trait]
impl PersonalQuestionRepo for Store {
    async fn list_personal_questions(
        &self,
        client_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<PersonalQuestion>> {
        self.run(move |conn| {
            let query = personal_questions::table
                .inner_join(clients::table)
                .filter(personal_questions::client_id.eq(client_id))
                .select((QuestionRow::as_select(), clients::ext_id))
                .into_boxed::<Db>();
            let rows: Vec<(QuestionRow, String)> =
                keyset!(query, personal_questions, page).load(conn)?;
            let items = rows
                .into_iter()
                .map(|(row, c)| row.into_domain(c))
                .collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |q| {
                cursor_of(&q.meta)
            }))
        })
        .await
    }

    async fn create_personal_question(&self, q: PersonalQuestion) -> RepoResult<PersonalQuestion> {
        self.write(move |conn| {
            returned(
                diesel::insert_into(personal_questions::table)
                    .values(NewQuestion {
                        client_id: q.client_id,
                        ext_id: &q.meta.ext_id,
                        created: q.meta.created,
                        last_modified: q.meta.last_modified,
                        version: q.meta.version,
                        values: QuestionValues::of(&q),
                    })
                    .returning(question_returning!())
                    .get_result(conn)?,
            )
        })
        .await
    }

    async fn update_personal_question(&self, q: &PersonalQuestion) -> RepoResult<PersonalQuestion> {
        let q = q.clone();
        self.write(move |conn| {
            returned(versioned_update!(
                conn,
                personal_questions,
                q.meta.id,
                q.meta.version,
                QuestionValues::of(&q),
                question_returning!() => (QuestionRow, String),
            )?)
        })
        .await
    }

    async fn delete_personal_question(&self, id: i64, version: i64) -> RepoResult<()> {
        self.write(move |conn| {
            let n = diesel::delete(
                personal_questions::table
                    .filter(personal_questions::id.eq(id))
                    .filter(personal_questions::version.eq(version)),
            )
            .execute(conn)?;
            if n == 0 {
                return Err(RepoError::StaleVersion.into());
            }
            Ok(())
        })
        .await
    }
}
