DROP INDEX profiles_deputed;
