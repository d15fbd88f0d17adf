"""Rendering a notification from Jinja2 templates: a subject, a text part, an HTML part.

Template names are ``<owner>/<name>``: ``core/...`` are the kernel's (in
``core/notifications/templates/``), ``<plugin>/...`` a plugin's (in the plugin
package's ``templates/mail/``). Each message is up to three files::

    <name>.subject.jinja2   one line (whitespace is collapsed)
    <name>.txt.jinja2       the text part (required)
    <name>.html.jinja2      the HTML part (optional; autoescaped)

``emporium.mail.templates_dir``, if set, is searched first with the same names
(``core/password_reset.txt.jinja2``), so a merchant can restyle any message.
"""
import pathlib

from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined,
                    TemplateNotFound, select_autoescape)

from core.tasks import KERNEL

KERNEL_TEMPLATES = pathlib.Path(__file__).parent / "templates" / KERNEL


def plugin_template_dir(plugin):
    folder = pathlib.Path(plugin.module.__file__).parent / "templates" / "mail"
    return folder if folder.is_dir() else None


def environment(registry):
    env = registry.get("mail_templates")
    if env is None:
        loaders = {KERNEL: FileSystemLoader(KERNEL_TEMPLATES)}
        for plugin in registry["plugins"].plugins.values():
            folder = plugin_template_dir(plugin)
            if folder is not None:
                loaders[plugin.name] = FileSystemLoader(folder)
        loader = PrefixLoader(loaders)
        override = registry.settings.get("emporium.mail.templates_dir")
        if override:
            loader = ChoiceLoader([FileSystemLoader(override), loader])
        env = registry["mail_templates"] = Environment(
            loader=loader,
            autoescape=select_autoescape(enabled_extensions=("html.jinja2",),
                                         default_for_string=False),
            # a misspelt variable fails the render instead of mailing a blank
            undefined=StrictUndefined,
        )
    return env


def render(registry, template, context):
    """(subject, text, html or None) for ``template`` with ``context``."""
    env = environment(registry)
    values = {"shop_name": registry.settings.get("emporium.shop_name") or "Emporium",
              **context}
    subject = " ".join(env.get_template(f"{template}.subject.jinja2").render(values).split())
    text = env.get_template(f"{template}.txt.jinja2").render(values)
    try:
        html_template = env.get_template(f"{template}.html.jinja2")
    except TemplateNotFound:
        return subject, text, None
    return subject, text, html_template.render(values)
