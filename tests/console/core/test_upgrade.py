"""A database created before the features moved into packages keeps working: the models keep
their app label, their tables and their migration history."""

from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from console.core.models import Change, Job, PlatformSettings, RoleBinding


def test_models_keep_the_tables_an_existing_database_has():
    tables = {model._meta.db_table for model in (Change, Job, PlatformSettings, RoleBinding)}
    assert tables == {"console_change", "console_job", "console_platformsettings", "console_rolebinding"}
    assert apps.get_app_config("console").name == "console.core"


def test_the_migration_history_is_the_one_existing_databases_recorded(db):
    """The migrations existing databases recorded keep their names; new ones only follow them."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert {name for app, name in loader.graph.nodes if app == "console"} == {
        "0001_initial", "0002_change_objects", "0003_guardrail_states", "0004_userpreference",
        "0005_said_sentences", "0006_change_said"}
    assert loader.graph.leaf_nodes("console") == [("console", "0006_change_said")]
    assert loader.graph.forwards_plan(("console", "0006_change_said"))[-3:] == [
        ("console", "0004_userpreference"), ("console", "0005_said_sentences"),
        ("console", "0006_change_said")]
