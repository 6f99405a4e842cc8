## Admin broadcasts: the /broadcast dialog, progress and reports, the weekly tip footer.

broadcast-menu = <b>Рассылки</b>. Что сделать?
btn-broadcast-compose = ✍️ Написать текст
btn-broadcast-tip = 💡 Совет из библиотеки
btn-broadcast-list = 📋 Запланированные и идущие
broadcast-ask-kk = Пришлите текст на <b>казахском</b> (HTML Telegram: &lt;b&gt;, &lt;i&gt;, &lt;a href="…"&gt;). Если казахского текста нет — /skip.
broadcast-ask-ru = Теперь текст на <b>русском</b>. Если русского текста нет — /skip.
broadcast-need-text = Нужен хотя бы один текст. Пришлите текст на казахском или /cancel, чтобы выйти.
broadcast-html-invalid =
    В тексте ошибка разметки, Telegram его не примет:
    { $errors }
    Исправьте и пришлите текст ещё раз.
broadcast-fallback-warning = ⚠️ Текста на { $missing ->
        [kk] казахском
       *[ru] русском
    } нет: этим пользователям уйдёт текст на { $missing ->
        [kk] русском
       *[ru] казахском
    }.
broadcast-tip-choose = Выберите совет — он уйдёт каждому на его языке:
broadcast-tip-unknown = Такого совета нет в библиотеке. Откройте /broadcast заново.
broadcast-audience-choose = Кому отправить?
btn-broadcast-aud-all = 👥 Всем
btn-broadcast-aud-kk = 🇰🇿 Казахоязычным
btn-broadcast-aud-ru = 🇷🇺 Русскоязычным
btn-broadcast-aud-expiring = ⏳ У кого ключ скоро истекает
btn-broadcast-aud-legal = 🏢 С ключами юрлица
btn-broadcast-aud-inactive = 💤 Давно не заходившим
broadcast-ask-days = Сколько дней? Пришлите число от 1 до 365.
broadcast-days-invalid = Нужно целое число от 1 до 365, например 30.
broadcast-when = Когда отправить?
btn-broadcast-now = 🚀 Сейчас
btn-broadcast-later = 🕒 Запланировать
broadcast-ask-time = Пришлите дату и время в формате дд.мм.гггг чч:мм (часовой пояс { $tz }), например 28.01.2027 11:00.
broadcast-time-invalid = Не понял дату. Нужен формат дд.мм.гггг чч:мм, например 28.01.2027 11:00.
broadcast-time-past = Это время уже прошло. Укажите время в будущем.
broadcast-preview-header = Предпросмотр — так сообщение увидят { $language ->
        [kk] казахоязычные
       *[ru] русскоязычные
    } пользователи:
broadcast-confirm =
    <b>Проверьте рассылку</b>
    Кому: { $audience }
    Получателей: { $count }
    Когда: { $when }
    Платная рассылка (выше 30 сообщений/с): { $paid ->
        [yes] да
       *[no] нет
    }
btn-broadcast-send = ✅ Подтвердить
btn-broadcast-paid-on = 💫 Включить платную рассылку
btn-broadcast-paid-off = Выключить платную рассылку
btn-broadcast-abort = ✖️ Отменить
broadcast-aborted = Рассылка не создана.
broadcast-empty-audience = В этой аудитории нет ни одного получателя. Выберите другую.
broadcast-now = сейчас
broadcast-started = Рассылка №{ $id } запущена: { $count ->
        [one] { $count } получатель
        [few] { $count } получателя
       *[many] { $count } получателей
    }. Ниже будет прогресс.
broadcast-scheduled = Рассылка №{ $id } запланирована на { $when }. Отменить можно в /broadcast → «Запланированные и идущие».
broadcast-dialog-expired = Диалог рассылки устарел. Начните заново: /broadcast
broadcast-already-confirmed = Эта рассылка уже подтверждена — второй раз она не уйдёт.
broadcast-aud-all = все пользователи
broadcast-aud-lang = { $language ->
        [kk] казахоязычные
       *[ru] русскоязычные
    } пользователи
broadcast-aud-expiring = ключ истекает в ближайшие { $days } дн.
broadcast-aud-legal = владельцы ключей юрлица
broadcast-aud-inactive = не заходили { $days } дн. и больше
broadcast-list-empty = Нет запланированных или идущих рассылок.
broadcast-list-item = №{ $id } · { $status ->
        [running] идёт
       *[scheduled] запланирована
    } · { $when } · { $audience }
btn-broadcast-cancel-one = ✖️ Отменить №{ $id }
broadcast-cancelled = Рассылка №{ $id } отменена. Уже отправленные сообщения остаются у получателей.
broadcast-cancel-failed = Рассылку №{ $id } отменить нельзя: она уже завершена или отменена.
broadcast-progress =
    📤 Рассылка №{ $id }
    Отправлено: { $sent } · Ошибок: { $failed } · Исход неизвестен: { $unknown } · Заблокировали бота: { $blocked }
    Осталось: { $remaining } · Ещё примерно { $eta }
broadcast-report =
    ✅ <b>Рассылка №{ $id } завершена</b>
    Получателей: { $total }
    Доставлено: { $sent }
    Заблокировали бота: { $blocked }
    Ошибок: { $failed }
    Исход неизвестен (бот перезапустился во время отправки): { $unknown }
    Исключены (отписались): { $excluded }
broadcast-weekly-footer = <i>Совет недели от Kilt. Отключить: /reminders</i>

## Teaching the bot from real questions: /stats and /learned.

cmd-learned = Выученные формулировки (админ)
teach-unanswered-title = Вопросы без ответа за { $days } дн. (имена и номера вычищены, без привязки к людям):
teach-unanswered-line = { $n }. { $text } — { $count ->
        [one] { $count } раз
        [few] { $count } раза
       *[many] { $count } раз
    }
teach-unanswered-none = Вопросов без ответа нет.
teach-unanswered-hint = Кнопки ниже: «N → тема» привязывает вопрос N к теме базы знаний, «N ✕» отмечает его как вопрос не об ЭЦП.
btn-teach-attach = { $n } → тема
btn-teach-out = { $n } ✕ не по теме
btn-teach-learned = 📚 Выученные формулировки ({ $count })
btn-teach-export = ⬇️ Выгрузить TSV
btn-teach-remove = 🗑 { $n }
teach-choose-topic =
    К какой теме относится этот вопрос?
    «{ $text }»
teach-attached = ✅ Запомнил: «{ $text }» → { $topic }. Кто спросит так же, сразу получит ответ этой темы.
teach-marked-out = ✅ Отмечено как вопрос не по теме: «{ $text }». На него бот вежливо ответит, что не знает, и подскажет, с чем может помочь.
teach-already-done = Этот вопрос уже разобран или удалён (истёк срок хранения). Откройте /stats заново.
teach-unknown-topic = Такой темы нет в базе знаний. Откройте /stats заново.
teach-out-of-scope = не по теме
teach-learned-title = <b>Выученные формулировки</b> — всего { $count }, новые сверху:
teach-learned-line = { $n }. «{ $text }» → { $topic } ({ $language })
teach-learned-more = …и ещё { $count } — полный список в выгрузке TSV.
teach-learned-none = Выученных формулировок пока нет. Привяжите вопрос без ответа к теме в /stats.
teach-removed = Удалено: «{ $text }». Этот вопрос снова разбирает обычный поиск по базе знаний.
teach-export-caption = Выученные формулировки: { $count }. Столбцы form, topic, question (topic «none» — не по теме): их можно перенести в примеры базы знаний.
teach-admin-only-button = Эта кнопка только для администраторов бота.
