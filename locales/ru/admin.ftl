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
    Отправлено: { $sent } · Ошибок: { $failed } · Заблокировали бота: { $blocked }
    Осталось: { $remaining } · Ещё примерно { $eta }
broadcast-report =
    ✅ <b>Рассылка №{ $id } завершена</b>
    Получателей: { $total }
    Доставлено: { $sent }
    Заблокировали бота: { $blocked }
    Ошибок: { $failed } (из них неизвестный исход после перезапуска: { $unknown })
    Исключены (отписались): { $excluded }
broadcast-weekly-footer = <i>Совет недели от Kilt. Отключить: /reminders</i>
