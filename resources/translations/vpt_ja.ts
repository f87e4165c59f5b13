<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP">
  <context>
    <name>AboutDialog</name>
    <message>
      <source>About</source>
      <translation>このアプリについて</translation>
    </message>
    <message>
      <source>VPT Inspection teaches one inspection model many tasks from a few pictures each. Licence: Apache-2.0. Versions, for a support call:</source>
      <translation>VPT 検査は、1 つの検査モデルに、それぞれ少ない画像から多くのタスクを教えます。ライセンス: Apache-2.0。サポートに問い合わせるときのバージョン情報:</translation>
    </message>
  </context>
  <context>
    <name>CapturePage</name>
    <message>
      <source> pictures</source>
      <translation> 枚</translation>
    </message>
    <message>
      <source>How many pictures one burst takes (one every 0.2 s)</source>
      <translation>連続撮影で撮る枚数（0.2 秒ごとに 1 枚）</translation>
    </message>
    <message>
      <source>Import pictures…</source>
      <translation>画像を取り込む…</translation>
    </message>
    <message>
      <source>Import folder…</source>
      <translation>フォルダーを取り込む…</translation>
    </message>
    <message>
      <source>Capture to “{name}”  (Space)</source>
      <translation>「{name}」に撮影  (スペース)</translation>
    </message>
    <message>
      <source>Pictures in “{name}”: {count}</source>
      <translation>「{name}」の画像: {count} 枚</translation>
    </message>
    <message>
      <source>Add a class first</source>
      <translation>先にクラスを追加してください</translation>
    </message>
    <message>
      <source>No class yet: press Add… to make one.</source>
      <translation>クラスがまだありません。「追加…」で作成してください。</translation>
    </message>
    <message>
      <source>Stop burst ({left} left)</source>
      <translation>連続撮影を止める（残り {left} 枚）</translation>
    </message>
    <message>
      <source>Burst  (B)</source>
      <translation>連続撮影  (B)</translation>
    </message>
    <message>
      <source>Add a class first, then capture.</source>
      <translation>先にクラスを追加してから撮影してください。</translation>
    </message>
    <message>
      <source>No picture to capture: start a camera or another source first.</source>
      <translation>撮影できる画像がありません。先にカメラなどの入力を開始してください。</translation>
    </message>
    <message>
      <source>✔ {taken} of {total} taken for “{name}”</source>
      <translation>✔ 「{name}」に {total} 枚中 {taken} 枚目を撮影しました</translation>
    </message>
    <message>
      <source>✔ Picture taken for “{name}”</source>
      <translation>✔ 「{name}」に撮影しました</translation>
    </message>
    <message>
      <source>The picture source shows only {count} different pictures, so the burst stopped after {count}. Repeats are not saved.</source>
      <translation>映像の入力には異なる画像が {count} 枚しかないため、{count} 枚で連続撮影を止めました。同じ画像は保存しません。</translation>
    </message>
    <message>
      <source>A picture could not be saved: {error}</source>
      <translation>画像を保存できませんでした: {error}</translation>
    </message>
    <message>
      <source>{count} picture(s) moved to the trash (Ctrl+Z to undo)</source>
      <translation>{count} 枚の画像をごみ箱に移しました（Ctrl+Z で元に戻す）</translation>
    </message>
    <message>
      <source>Import pictures</source>
      <translation>画像の取り込み</translation>
    </message>
    <message>
      <source>Pictures (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)</source>
      <translation>画像 (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;すべてのファイル (*)</translation>
    </message>
    <message>
      <source>Import all pictures in a folder</source>
      <translation>フォルダー内の画像をすべて取り込む</translation>
    </message>
  </context>
  <context>
    <name>ClassList</name>
    <message>
      <source>Classes</source>
      <translation>クラス</translation>
    </message>
    <message>
      <source>Add…</source>
      <translation>追加…</translation>
    </message>
    <message>
      <source>Rename…</source>
      <translation>名前を変更…</translation>
    </message>
    <message>
      <source>Delete…</source>
      <translation>削除…</translation>
    </message>
    <message>
      <source>Press 1–9 to choose a class. Drop pictures here to move them.</source>
      <translation>1～9 キーでクラスを選びます。画像をここにドロップすると移動します。</translation>
    </message>
    <message>
      <source>{key}{name}   ({count} images)</source>
      <translation>{key}{name}   （{count} 枚）</translation>
    </message>
    <message>
      <source>Class</source>
      <translation>クラス</translation>
    </message>
    <message>
      <source>New class</source>
      <translation>新しいクラス</translation>
    </message>
    <message>
      <source>Name of the new class (for example: ok, scratch, dent):</source>
      <translation>新しいクラスの名前（例: 良品、傷、へこみ）:</translation>
    </message>
    <message>
      <source>Rename class</source>
      <translation>クラス名の変更</translation>
    </message>
    <message>
      <source>New name for “{name}”:</source>
      <translation>「{name}」の新しい名前:</translation>
    </message>
    <message>
      <source>Delete class</source>
      <translation>クラスの削除</translation>
    </message>
    <message>
      <source>Delete the class “{name}” and its {count} images?

They go to the project's trash; Edit &gt; Undo brings them back.</source>
      <translation>クラス「{name}」とその画像 {count} 枚を削除しますか？

プロジェクトのごみ箱に移ります。「編集」&gt;「元に戻す」で戻せます。</translation>
    </message>
  </context>
  <context>
    <name>ConfusionView</name>
    <message>
      <source>Rows: the real class. Columns: what the task said. Click a red cell to see those pictures.</source>
      <translation>行: 実際のクラス。列: タスクの判定。赤いセルをクリックすると該当する画像を表示します。</translation>
    </message>
    <message>
      <source>said: {name}</source>
      <translation>判定: {name}</translation>
    </message>
    <message>
      <source>is: {name}</source>
      <translation>実際: {name}</translation>
    </message>
    <message>
      <source>{count} picture(s) of “{truth}” taken for “{guess}”: click to see them</source>
      <translation>「{truth}」の画像 {count} 枚が「{guess}」と判定されました。クリックで表示</translation>
    </message>
  </context>
  <context>
    <name>Crash</name>
    <message>
      <source>Something went wrong, but your images and tasks are safe and the app keeps running.

What happened: {what}

Details for a developer were written to:
{where}</source>
      <translation>問題が発生しましたが、画像とタスクは無事で、アプリは動作を続けます。

内容: {what}

開発者向けの詳細は次の場所に記録しました:
{where}</translation>
    </message>
    <message>
      <source>Problem</source>
      <translation>問題</translation>
    </message>
  </context>
  <context>
    <name>ErrorTexts</name>
    <message>
      <source>A class needs a name.</source>
      <translation>クラスには名前が必要です。</translation>
    </message>
    <message>
      <source>“{name}” cannot be a class name: leave out / \ : * ? " &lt; &gt; | and do not start with a dot.</source>
      <translation>「{name}」はクラス名に使えません。/ \ : * ? " &lt; &gt; | を使わず、先頭をドットにしないでください。</translation>
    </message>
    <message>
      <source>That class name is too long: 80 characters at most.</source>
      <translation>クラス名が長すぎます。80 文字以内にしてください。</translation>
    </message>
    <message>
      <source>There is already a class named “{name}”.</source>
      <translation>「{name}」という名前のクラスはすでにあります。</translation>
    </message>
    <message>
      <source>A folder named “{name}” is already in {folder}: choose another name.</source>
      <translation>{folder} には「{name}」という名前のフォルダーがすでにあります。別の名前を選んでください。</translation>
    </message>
    <message>
      <source>{file}: not a picture file</source>
      <translation>{file}: 画像ファイルではありません</translation>
    </message>
    <message>
      <source>{file}: damaged, or not a picture</source>
      <translation>{file}: 壊れているか、画像ではありません</translation>
    </message>
  </context>
  <context>
    <name>EvaluatePage</name>
    <message>
      <source>Evaluate a task</source>
      <translation>タスクの評価</translation>
    </message>
    <message>
      <source>Task:</source>
      <translation>タスク:</translation>
    </message>
    <message>
      <source>Check on the project's pictures</source>
      <translation>プロジェクトの画像で確認</translation>
    </message>
    <message>
      <source>Class</source>
      <translation>クラス</translation>
    </message>
    <message>
      <source>Pictures</source>
      <translation>画像</translation>
    </message>
    <message>
      <source>Recognised</source>
      <translation>正解率</translation>
    </message>
    <message>
      <source>What the task said for each class (click a red cell to see the pictures it got wrong)</source>
      <translation>クラスごとのタスクの判定（赤いセルをクリックすると誤判定の画像を表示）</translation>
    </message>
    <message>
      <source>No task yet: train one on the Train page.</source>
      <translation>タスクがまだありません。「学習」ページで作成してください。</translation>
    </message>
    <message>
      <source>This task file cannot be read.</source>
      <translation>このタスクファイルは読み込めません。</translation>
    </message>
    <message>
      <source>“{task}”: not checked on pictures it did not train on (too few pictures per class).</source>
      <translation>「{task}」: 学習に使っていない画像ではまだ確認していません（クラスごとの画像が少なすぎます）。</translation>
    </message>
    <message>
      <source>“{task}”: {accuracy:.0f} % right on pictures it did not train on</source>
      <translation>「{task}」: 学習に使っていない画像で {accuracy:.0f} % 正解</translation>
    </message>
    <message>
      <source>“{task}”: {accuracy:.0f} % right on {count} pictures it did not train on</source>
      <translation>「{task}」: 学習に使っていない画像 {count} 枚で {accuracy:.0f} % 正解</translation>
    </message>
    <message>
      <source>Measured by training again without each group of pictures in turn.</source>
      <translation>画像のグループを 1 つずつ外して学習し直して測りました。</translation>
    </message>
    <message>
      <source>On the pictures it trained on: {accuracy:.0f} % (not a test: it has seen them).</source>
      <translation>学習に使った画像では {accuracy:.0f} %（テストではありません。一度見た画像です）。</translation>
    </message>
    <message>
      <source>Press “Check on the project's pictures” to test it on pictures taken after training.</source>
      <translation>「プロジェクトの画像で確認」を押すと、学習のあとに撮影した画像でテストします。</translation>
    </message>
    <message>
      <source>New pictures, taken after training: {accuracy:.0f} % right on {count}.</source>
      <translation>学習のあとに撮影した新しい画像: {count} 枚で {accuracy:.0f} % 正解。</translation>
    </message>
    <message>
      <source>No new pictures of {classes} yet: that figure does not cover them.</source>
      <translation>{classes} の新しい画像はまだありません。上の数値には含まれていません。</translation>
    </message>
    <message>
      <source>No new pictures since this task was trained: capture new parts to test it.</source>
      <translation>このタスクの学習後に撮影した画像がありません。新しい部品を撮影してテストしてください。</translation>
    </message>
    <message>
      <source>No pictures of {classes} in the project: these classes are not checked at all.</source>
      <translation>プロジェクトに {classes} の画像がありません。これらのクラスはまったく確認されていません。</translation>
    </message>
    <message>
      <source>New pictures ({count}): a real test</source>
      <translation>新しい画像（{count} 枚）: 本当のテスト</translation>
    </message>
    <message>
      <source>Pictures it trained on ({count}): not a test</source>
      <translation>学習に使った画像（{count} 枚）: テストではありません</translation>
    </message>
    <message>
      <source>Checking…</source>
      <translation>確認中…</translation>
    </message>
    <message>
      <source>The check could not run.</source>
      <translation>確認を実行できませんでした。</translation>
    </message>
    <message>
      <source>Not part of this task (left out): {classes}.</source>
      <translation>このタスクに含まれないため除外: {classes}。</translation>
    </message>
    <message>
      <source>{count} unreadable picture(s) left out.</source>
      <translation>読み込めない画像 {count} 枚を除外しました。</translation>
    </message>
    <message>
      <source>is “{truth}”, task said “{guess}” ({confidence:.0f} % sure)</source>
      <translation>実際は「{truth}」、判定は「{guess}」（確信度 {confidence:.0f} %）</translation>
    </message>
    <message>
      <source>Pictures of “{truth}” taken for “{guess}”</source>
      <translation>「{guess}」と判定された「{truth}」の画像</translation>
    </message>
  </context>
  <context>
    <name>ExportPage</name>
    <message>
      <source>Export for the inspection station</source>
      <translation>検査ステーション用に書き出し</translation>
    </message>
    <message>
      <source>Tick the tasks the station should run. The bundle holds the model once and each task as a small file; the app checks that the exported model gives the same answers as here.</source>
      <translation>ステーションで使うタスクにチェックを入れてください。バンドルにはモデルが 1 つと、タスクごとの小さなファイルが入ります。書き出したモデルがここと同じ判定をするかをアプリが確認します。</translation>
    </message>
    <message>
      <source>Build bundle</source>
      <translation>バンドルを作成</translation>
    </message>
    <message>
      <source>Open folder</source>
      <translation>フォルダーを開く</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>キャンセル</translation>
    </message>
    <message>
      <source>Item</source>
      <translation>項目</translation>
    </message>
    <message>
      <source>Value</source>
      <translation>値</translation>
    </message>
    <message>
      <source>Tick the tasks and press Build bundle.</source>
      <translation>タスクにチェックを入れて「バンドルを作成」を押してください。</translation>
    </message>
    <message>
      <source>No task yet: train one on the Train page.</source>
      <translation>タスクがまだありません。「学習」ページで作成してください。</translation>
    </message>
    <message>
      <source>Building the bundle: exporting the model and checking its answers…</source>
      <translation>バンドルを作成中: モデルを書き出して判定を確認しています…</translation>
    </message>
    <message>
      <source>Building the bundle: {step}</source>
      <translation>バンドルを作成中: {step}</translation>
    </message>
    <message>
      <source>checking the answers of “{name}”</source>
      <translation>「{name}」の判定を確認中</translation>
    </message>
    <message>
      <source>loading the model</source>
      <translation>モデルを読み込み中</translation>
    </message>
    <message>
      <source>exporting the model</source>
      <translation>モデルを書き出し中</translation>
    </message>
    <message>
      <source>writing the files</source>
      <translation>ファイルを書き込み中</translation>
    </message>
    <message>
      <source>done</source>
      <translation>完了</translation>
    </message>
    <message>
      <source>Stopping… (after the current step)</source>
      <translation>停止しています…（いまの手順のあとで止まります）</translation>
    </message>
    <message>
      <source>Export cancelled; no bundle was written.</source>
      <translation>書き出しを中止しました。バンドルは作成していません。</translation>
    </message>
    <message>
      <source>Bundle ready: {folder}</source>
      <translation>バンドルができました: {folder}</translation>
    </message>
    <message>
      <source>Folder</source>
      <translation>フォルダー</translation>
    </message>
    <message>
      <source>Whole bundle</source>
      <translation>バンドル全体</translation>
    </message>
    <message>
      <source>Model, shared by all tasks</source>
      <translation>モデル（全タスク共通）</translation>
    </message>
    <message>
      <source>Task “{name}”</source>
      <translation>タスク「{name}」</translation>
    </message>
    <message>
      <source>Same answers as here (“{name}”)</source>
      <translation>ここと同じ判定（「{name}」）</translation>
    </message>
    <message>
      <source>{matches} of {images} pictures, largest score difference {diff:.1e}</source>
      <translation>{images} 枚中 {matches} 枚、スコアの最大差 {diff:.1e}</translation>
    </message>
    <message>
      <source>Time taken</source>
      <translation>所要時間</translation>
    </message>
    <message>
      <source>{seconds:.0f} s</source>
      <translation>{seconds:.0f} 秒</translation>
    </message>
    <message>
      <source>Note</source>
      <translation>メモ</translation>
    </message>
    <message>
      <source>The bundle could not be built: {error}</source>
      <translation>バンドルを作成できませんでした: {error}</translation>
    </message>
  </context>
  <context>
    <name>GoodClassesDialog</name>
    <message>
      <source>Good results of “{task}”</source>
      <translation>「{task}」の良品の結果</translation>
    </message>
    <message>
      <source>Live inspection shows good parts in green and every other result as a defect in red.</source>
      <translation>ライブ検査では、良品を緑で、それ以外の結果を不良として赤で表示します。</translation>
    </message>
    <message>
      <source>This task finds defects. Good parts are:</source>
      <translation>このタスクは不良を見つけます。良品は次のとおりです:</translation>
    </message>
    <message>
      <source>This task sorts kinds of parts: no result is a defect</source>
      <translation>このタスクは部品の種類を分けます（不良の結果はありません）</translation>
    </message>
  </context>
  <context>
    <name>GuideDialog</name>
    <message>
      <source>Operator guide</source>
      <translation>操作ガイド</translation>
    </message>
    <message>
      <source>&lt;b&gt;1 Capture.&lt;/b&gt; Choose where the pictures come from (a camera, a video, a network camera or a folder) and press Start. Add a class for each kind of part or defect, for example “ok” and “scratch”. Choose a class with the number keys, then press Space to take a picture or B for a burst. Take at least 5, better 20, pictures per class, of different parts.</source>
      <translation>&lt;b&gt;1 撮影。&lt;/b&gt; 映像の入力元（カメラ、動画、ネットワークカメラ、フォルダー）を選んで「開始」を押します。部品や不良の種類ごとにクラスを追加します（例:「良品」と「傷」）。数字キーでクラスを選び、スペースキーで 1 枚、B キーで連続撮影します。クラスごとに、別々の部品を少なくとも 5 枚、できれば 20 枚撮影してください。</translation>
    </message>
    <message>
      <source>&lt;b&gt;2 Train.&lt;/b&gt; Give the task a name and press Start training. The checks above the button say what is missing. The bar shows the whole run and the time left.</source>
      <translation>&lt;b&gt;2 学習。&lt;/b&gt; タスクに名前を付けて「学習を開始」を押します。ボタンの上の確認項目に、足りないものが表示されます。バーは学習全体の進み具合と残り時間を示します。</translation>
    </message>
    <message>
      <source>&lt;b&gt;3 Evaluate.&lt;/b&gt; The big figure is how often the task was right on pictures it did not learn from: trust this one. “Check on the project's pictures” tests it on pictures taken after training; click a red cell to see the pictures it got wrong, and move them to the right class if they were sorted wrongly.</source>
      <translation>&lt;b&gt;3 評価。&lt;/b&gt; 大きな数値は、学習していない画像でタスクが正解した割合です。この数値を信頼してください。「プロジェクトの画像で確認」は学習のあとに撮影した画像でテストします。赤いセルをクリックすると誤判定の画像が表示されます。分類が間違っていた画像は正しいクラスへ移してください。</translation>
    </message>
    <message>
      <source>&lt;b&gt;4 Export.&lt;/b&gt; Tick the tasks the station should run and press Build bundle. Copy the bundle folder to the station.</source>
      <translation>&lt;b&gt;4 書き出し。&lt;/b&gt; ステーションで使うタスクにチェックを入れて「バンドルを作成」を押します。バンドルのフォルダーをステーションにコピーします。</translation>
    </message>
    <message>
      <source>&lt;b&gt;5 Live.&lt;/b&gt; Press Start inspection. Good parts show in green, defects in red, and “Not sure” in amber: check those parts by hand. Use Good results… to say which classes are good.</source>
      <translation>&lt;b&gt;5 ライブ。&lt;/b&gt;「検査を開始」を押します。良品は緑、不良は赤、「判定できません」は黄色で表示されます。黄色の部品は人が確認してください。どのクラスが良品かは「良品の設定…」で指定します。</translation>
    </message>
    <message>
      <source>Mistakes can be undone with Ctrl+Z. Deleted pictures go to the project's trash. Everything is saved as you go.</source>
      <translation>間違えた操作は Ctrl+Z で元に戻せます。削除した画像はプロジェクトのごみ箱に移ります。変更はその都度保存されます。</translation>
    </message>
  </context>
  <context>
    <name>ImageViewer</name>
    <message>
      <source>Picture</source>
      <translation>画像</translation>
    </message>
    <message>
      <source>◀ Previous</source>
      <translation>◀ 前へ</translation>
    </message>
    <message>
      <source>Next ▶</source>
      <translation>次へ ▶</translation>
    </message>
    <message>
      <source>Close</source>
      <translation>閉じる</translation>
    </message>
    <message>
      <source>No pictures</source>
      <translation>画像がありません</translation>
    </message>
    <message>
      <source>Cannot read this picture: {error}</source>
      <translation>この画像を読み込めません: {error}</translation>
    </message>
    <message>
      <source>{number} of {total}: {name} ({extra})</source>
      <translation>{number} / {total}: {name}（{extra}）</translation>
    </message>
  </context>
  <context>
    <name>ImportDialog</name>
    <message>
      <source>Import a folder of class folders</source>
      <translation>クラスごとのフォルダーを取り込む</translation>
    </message>
    <message>
      <source>This folder holds {count} folders of pictures. Import each folder as the class of the same name? This is what will happen:</source>
      <translation>このフォルダーには画像のフォルダーが {count} 個あります。各フォルダーを同じ名前のクラスとして取り込みますか？ 次のようになります:</translation>
    </message>
    <message>
      <source>Import as classes</source>
      <translation>クラスとして取り込む</translation>
    </message>
    <message>
      <source>Put all {count} into “{name}”</source>
      <translation>{count} 枚すべてを「{name}」に入れる</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>キャンセル</translation>
    </message>
    <message>
      <source>“{folder}”: left out: {reason}</source>
      <translation>「{folder}」: 除外します: {reason}</translation>
    </message>
    <message>
      <source>“{folder}”: {count} pictures → new class “{name}”</source>
      <translation>「{folder}」: {count} 枚 → 新しいクラス「{name}」</translation>
    </message>
    <message>
      <source>“{folder}”: {count} pictures → existing class “{name}”</source>
      <translation>「{folder}」: {count} 枚 → 既存のクラス「{name}」</translation>
    </message>
    <message>
      <source>{count} files lying directly in the folder → the selected class “{name}”</source>
      <translation>フォルダー直下のファイル {count} 個 → 選択中のクラス「{name}」</translation>
    </message>
    <message>
      <source>{count} files lying directly in the folder: left out (no class selected)</source>
      <translation>フォルダー直下のファイル {count} 個: 除外します（クラスが選ばれていません）</translation>
    </message>
  </context>
  <context>
    <name>LivePage</name>
    <message>
      <source>Live inspection</source>
      <translation>ライブ検査</translation>
    </message>
    <message>
      <source>Bundle:</source>
      <translation>バンドル:</translation>
    </message>
    <message>
      <source>Other bundle…</source>
      <translation>ほかのバンドル…</translation>
    </message>
    <message>
      <source>Task:</source>
      <translation>タスク:</translation>
    </message>
    <message>
      <source>Stop inspection</source>
      <translation>検査を停止</translation>
    </message>
    <message>
      <source>Start inspection</source>
      <translation>検査を開始</translation>
    </message>
    <message>
      <source>Starts the picture source too, if it is not running</source>
      <translation>映像の入力が止まっている場合は、それも開始します</translation>
    </message>
    <message>
      <source>Good results…</source>
      <translation>良品の設定…</translation>
    </message>
    <message>
      <source>Choose which results are good parts (green) and which are defects (red)</source>
      <translation>どの結果を良品（緑）、どれを不良（赤）とするかを選びます</translation>
    </message>
    <message>
      <source>Choose a bundle (made on the Export page) and press Start inspection.</source>
      <translation>バンドル（「書き出し」ページで作成）を選んで「検査を開始」を押してください。</translation>
    </message>
    <message>
      <source>Choose a bundle folder</source>
      <translation>バンドルのフォルダーを選択</translation>
    </message>
    <message>
      <source>Loading the bundle…</source>
      <translation>バンドルを読み込んでいます…</translation>
    </message>
    <message>
      <source>Switch to this task (Ctrl+Shift+{number})</source>
      <translation>このタスクに切り替え（Ctrl+Shift+{number}）</translation>
    </message>
    <message>
      <source>Running. Start a picture source above if none is shown.</source>
      <translation>実行中。映像が表示されない場合は、上で入力を開始してください。</translation>
    </message>
    <message>
      <source>{confidence:.0f} % sure · {total:.0f} ms</source>
      <translation>確信度 {confidence:.0f} % · {total:.0f} ms</translation>
    </message>
    <message>
      <source>Maybe “{label}” ({confidence:.0f} % sure) · task {task}</source>
      <translation>「{label}」かもしれません（確信度 {confidence:.0f} %）· タスク {task}</translation>
    </message>
    <message>
      <source>The bundle cannot run: {error}</source>
      <translation>バンドルを実行できません: {error}</translation>
    </message>
    <message>
      <source>{confidence:.0f} % sure · task {task}</source>
      <translation>確信度 {confidence:.0f} % · タスク {task}</translation>
    </message>
  </context>
  <context>
    <name>MainWindow</name>
    <message>
      <source>VPT Inspection</source>
      <translation>VPT 検査</translation>
    </message>
    <message>
      <source>1  Capture</source>
      <translation>1  撮影</translation>
    </message>
    <message>
      <source>2  Train</source>
      <translation>2  学習</translation>
    </message>
    <message>
      <source>3  Evaluate</source>
      <translation>3  評価</translation>
    </message>
    <message>
      <source>4  Export</source>
      <translation>4  書き出し</translation>
    </message>
    <message>
      <source>5  Live</source>
      <translation>5  ライブ</translation>
    </message>
    <message>
      <source>Take and sort pictures (Alt+1)</source>
      <translation>画像を撮影・分類する（Alt+1）</translation>
    </message>
    <message>
      <source>Teach a task (Alt+2)</source>
      <translation>タスクを学習させる（Alt+2）</translation>
    </message>
    <message>
      <source>See how well it works (Alt+3)</source>
      <translation>どのくらい正しいか確認する（Alt+3）</translation>
    </message>
    <message>
      <source>Make a bundle for the station (Alt+4)</source>
      <translation>ステーション用のバンドルを作る（Alt+4）</translation>
    </message>
    <message>
      <source>Try it live (Alt+5)</source>
      <translation>ライブで試す（Alt+5）</translation>
    </message>
    <message>
      <source>&amp;File</source>
      <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
      <source>Recent projects</source>
      <translation>最近のプロジェクト</translation>
    </message>
    <message>
      <source>New project…</source>
      <translation>新しいプロジェクト…</translation>
    </message>
    <message>
      <source>Open project…</source>
      <translation>プロジェクトを開く…</translation>
    </message>
    <message>
      <source>Close project</source>
      <translation>プロジェクトを閉じる</translation>
    </message>
    <message>
      <source>Empty the project's trash…</source>
      <translation>プロジェクトのごみ箱を空にする…</translation>
    </message>
    <message>
      <source>Quit</source>
      <translation>終了</translation>
    </message>
    <message>
      <source>&amp;Edit</source>
      <translation>編集(&amp;E)</translation>
    </message>
    <message>
      <source>&amp;Language</source>
      <translation>言語(&amp;L)</translation>
    </message>
    <message>
      <source>&amp;Help</source>
      <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
      <source>Open the log folder</source>
      <translation>ログフォルダーを開く</translation>
    </message>
    <message>
      <source>Operator guide</source>
      <translation>操作ガイド</translation>
    </message>
    <message>
      <source>About</source>
      <translation>このアプリについて</translation>
    </message>
    <message>
      <source>A task is still being trained. Stopping now loses this run; tasks trained earlier are kept.</source>
      <translation>タスクの学習がまだ続いています。いま止めるとこの学習は失われます。以前に学習したタスクは残ります。</translation>
    </message>
    <message>
      <source>A bundle is still being built. Stopping now leaves no bundle; nothing else changes.</source>
      <translation>バンドルをまだ作成中です。いま止めるとバンドルは作られません。ほかには何も変わりません。</translation>
    </message>
    <message>
      <source>Stop and close?</source>
      <translation>止めて閉じますか？</translation>
    </message>
    <message>
      <source>Stop and close</source>
      <translation>止めて閉じる</translation>
    </message>
    <message>
      <source>Keep working</source>
      <translation>作業を続ける</translation>
    </message>
    <message>
      <source>Open a project folder</source>
      <translation>プロジェクトのフォルダーを開く</translation>
    </message>
    <message>
      <source>Preparing the demo project…</source>
      <translation>デモプロジェクトを準備しています…</translation>
    </message>
    <message>
      <source>Empty trash</source>
      <translation>ごみ箱を空にする</translation>
    </message>
    <message>
      <source>Delete the pictures and classes in the project's trash for good? This cannot be undone.</source>
      <translation>プロジェクトのごみ箱にある画像とクラスを完全に削除しますか？ 元に戻せません。</translation>
    </message>
    <message>
      <source>Undo</source>
      <translation>元に戻す</translation>
    </message>
    <message>
      <source>Redo</source>
      <translation>やり直す</translation>
    </message>
    <message>
      <source>Problem</source>
      <translation>問題</translation>
    </message>
    <message>
      <source>Damaged project file</source>
      <translation>プロジェクトファイルの破損</translation>
    </message>
    <message>
      <source>The project file {path} cannot be read ({detail}).

It has not been changed. You can repair it from a backup, or rebuild the project from its picture folders: the damaged file is kept as project.damaged-….json and class colours and settings start fresh.</source>
      <translation>プロジェクトファイル {path} を読み込めません（{detail}）。

ファイルは変更していません。バックアップから修復するか、画像フォルダーからプロジェクトを作り直せます。作り直す場合、破損したファイルは project.damaged-….json として残し、クラスの色と設定は初期状態に戻ります。</translation>
    </message>
    <message>
      <source>Rebuild from picture folders</source>
      <translation>画像フォルダーから作り直す</translation>
    </message>
    <message>
      <source>Not saved</source>
      <translation>保存されていません</translation>
    </message>
    <message>
      <source>The project could not be saved: {error}

Close anyway? Pictures and tasks are already on disk; only class order, colours and settings would be lost.</source>
      <translation>プロジェクトを保存できませんでした: {error}

このまま閉じますか？ 画像とタスクは保存済みです。失われるのはクラスの順番、色、設定だけです。</translation>
    </message>
    <message>
      <source>The translation for {language} is missing; using English.</source>
      <translation>{language} の翻訳が見つかりません。英語で表示します。</translation>
    </message>
  </context>
  <context>
    <name>ModelDialog</name>
    <message>
      <source>Choose the model</source>
      <translation>モデルの選択</translation>
    </message>
    <message>
      <source>Use a model file… (for computers without internet)</source>
      <translation>モデルファイルを使う…（インターネットのないコンピューター向け）</translation>
    </message>
    <message>
      <source>Your engineer gives you the file (for example on a USB stick) and tells you which kind of model it is. The app checks at once that the file fits.</source>
      <translation>技術担当者からファイル（USB メモリーなど）と、モデルの種類を受け取ってください。ファイルが合っているかをアプリがすぐに確認します。</translation>
    </message>
    <message>
      <source>Choose file…</source>
      <translation>ファイルを選ぶ…</translation>
    </message>
    <message>
      <source>no file chosen</source>
      <translation>ファイルが選ばれていません</translation>
    </message>
    <message>
      <source>Which kind of model the file holds</source>
      <translation>ファイルに入っているモデルの種類</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>キャンセル</translation>
    </message>
    <message>
      <source>Download ({size:.0f} MB)</source>
      <translation>ダウンロード（{size:.0f} MB）</translation>
    </message>
    <message>
      <source>Downloading… You can keep working; Cancel stops the download.</source>
      <translation>ダウンロード中… 作業を続けられます。「キャンセル」でダウンロードを止めます。</translation>
    </message>
    <message>
      <source>Checking the model file…</source>
      <translation>モデルファイルを確認しています…</translation>
    </message>
    <message>
      <source>Choose the model file and the kind of model it holds.</source>
      <translation>モデルファイルと、その種類を選んでください。</translation>
    </message>
    <message>
      <source>✔ The file fits: {name}</source>
      <translation>✔ ファイルは使えます: {name}</translation>
    </message>
    <message>
      <source>This model is not on this computer yet: press Download (needs internet once).</source>
      <translation>このモデルはまだこのコンピューターにありません。「ダウンロード」を押してください（インターネットが 1 回だけ必要です）。</translation>
    </message>
    <message>
      <source>✔ Ready to use.</source>
      <translation>✔ 使用できます。</translation>
    </message>
    <message>
      <source>This computer cannot reach the internet, so the model cannot be downloaded. The built-in model stays selected. Without internet, ask your engineer for the model file and choose “Use a model file…”.</source>
      <translation>このコンピューターはインターネットにつながらないため、モデルをダウンロードできません。内蔵モデルを選んだままにします。インターネットがない場合は、技術担当者にモデルファイルをもらい、「モデルファイルを使う…」を選んでください。</translation>
    </message>
    <message>
      <source>Download cancelled. Nothing was changed.</source>
      <translation>ダウンロードを中止しました。何も変更していません。</translation>
    </message>
    <message>
      <source>Choose the model file</source>
      <translation>モデルファイルを選択</translation>
    </message>
    <message>
      <source>Model files (*.safetensors *.pth *.pt *.bin);;All files (*)</source>
      <translation>モデルファイル (*.safetensors *.pth *.pt *.bin);;すべてのファイル (*)</translation>
    </message>
    <message>
      <source>{done:.0f} of {total:.0f} MB</source>
      <translation>{total:.0f} MB 中 {done:.0f} MB</translation>
    </message>
    <message>
      <source>The download stopped before the end; the built-in model stays selected. Try again later: it continues where it stopped.</source>
      <translation>ダウンロードが途中で止まりました。内蔵モデルを選んだままにします。あとでもう一度試すと、止まったところから続きます。</translation>
    </message>
    <message>
      <source>This file does not fit “{model}”: it holds another kind of model, or it is damaged. Choose the kind your engineer named, or another file.</source>
      <translation>このファイルは「{model}」に合いません。別の種類のモデルか、壊れたファイルです。技術担当者が指定した種類か、別のファイルを選んでください。</translation>
    </message>
  </context>
  <context>
    <name>ModelRow</name>
    <message>
      <source>Change…</source>
      <translation>変更…</translation>
    </message>
  </context>
  <context>
    <name>ModelTexts</name>
    <message>
      <source>Built-in model (small, works offline)</source>
      <translation>内蔵モデル（小型、インターネット不要）</translation>
    </message>
    <message>
      <source>General-purpose model, self-taught on web pictures (DINOv2 small)</source>
      <translation>汎用モデル、ウェブ上の画像で自己学習（DINOv2 small）</translation>
    </message>
    <message>
      <source>Photo model taught on 14 million labelled photos (ViT small, ImageNet-21k)</source>
      <translation>ラベル付き写真 1,400 万枚で学習した写真モデル（ViT small、ImageNet-21k）</translation>
    </message>
    <message>
      <source>Photo model taught on 1.3 million labelled photos (DeiT small)</source>
      <translation>ラベル付き写真 130 万枚で学習した写真モデル（DeiT small）</translation>
    </message>
    <message>
      <source>Ships with the app and needs no internet. It learned from drawn patterns, not photos, so it is the weakest choice: good for trying the app, often not enough for real defects.</source>
      <translation>アプリに含まれていて、インターネットは不要です。写真ではなく描いた模様で学習したため最も弱い選択肢です。アプリを試すのには十分ですが、実際の不良には足りないことがよくあります。</translation>
    </message>
    <message>
      <source>Usually the best start for defects and surfaces. Downloaded once, then used without internet.</source>
      <translation>不良や表面の検査では、たいていこれが最適な出発点です。1 回ダウンロードすれば、その後はインターネットなしで使えます。</translation>
    </message>
    <message>
      <source>A strong choice for telling kinds of parts apart. Downloaded once, then used without internet.</source>
      <translation>部品の種類の見分けに強い選択肢です。1 回ダウンロードすれば、その後はインターネットなしで使えます。</translation>
    </message>
    <message>
      <source>Smaller to download than the one above and as fast. Downloaded once, then used without internet.</source>
      <translation>上のモデルよりダウンロードが小さく、速さは同じです。1 回ダウンロードすれば、その後はインターネットなしで使えます。</translation>
    </message>
    <message>
      <source>about {seconds:.1f} s per picture on a small PC without a graphics card</source>
      <translation>グラフィックボードのない小型 PC で 1 枚あたり約 {seconds:.1f} 秒</translation>
    </message>
    <message>
      <source>under 0.1 s per picture on a small PC without a graphics card</source>
      <translation>グラフィックボードのない小型 PC で 1 枚あたり 0.1 秒未満</translation>
    </message>
    <message>
      <source>{size:.0f} MB, built in</source>
      <translation>{size:.0f} MB、内蔵</translation>
    </message>
    <message>
      <source>{size:.0f} MB download</source>
      <translation>{size:.0f} MB のダウンロード</translation>
    </message>
    <message>
      <source>{size} · {speed} · licence: {licence}</source>
      <translation>{size} · {speed} · ライセンス: {licence}</translation>
    </message>
    <message>
      <source>Model file {file} (same kind as: {model})</source>
      <translation>モデルファイル {file}（種類: {model}）</translation>
    </message>
    <message>
      <source>Test model with random values (for trying the app only)</source>
      <translation>ランダムな値のテスト用モデル（アプリを試す用）</translation>
    </message>
    <message>
      <source>Model chosen by an engineer: {name}</source>
      <translation>技術担当者が選んだモデル: {name}</translation>
    </message>
  </context>
  <context>
    <name>NewProjectDialog</name>
    <message>
      <source>New project</source>
      <translation>新しいプロジェクト</translation>
    </message>
    <message>
      <source>Project name</source>
      <translation>プロジェクト名</translation>
    </message>
    <message>
      <source>Save in folder</source>
      <translation>保存先フォルダー</translation>
    </message>
    <message>
      <source>Model</source>
      <translation>モデル</translation>
    </message>
    <message>
      <source>for example: line 3 housings</source>
      <translation>例: 3 号ライン ハウジング</translation>
    </message>
    <message>
      <source>The project will be the folder {folder}</source>
      <translation>プロジェクトはフォルダー {folder} になります</translation>
    </message>
    <message>
      <source>Type a name for the project to continue.</source>
      <translation>続けるにはプロジェクト名を入力してください。</translation>
    </message>
    <message>
      <source>Browse…</source>
      <translation>参照…</translation>
    </message>
    <message>
      <source>Where to keep the project</source>
      <translation>プロジェクトの保存先</translation>
    </message>
  </context>
  <context>
    <name>OpenFolder</name>
    <message>
      <source>No file manager could be opened on this computer. The folder is:
{folder}

Its path was copied, so you can paste it elsewhere.</source>
      <translation>このコンピューターではファイルマネージャーを開けませんでした。フォルダーの場所:
{folder}

場所をコピーしたので、ほかの場所に貼り付けられます。</translation>
    </message>
    <message>
      <source>Folder</source>
      <translation>フォルダー</translation>
    </message>
  </context>
  <context>
    <name>PictureImporter</name>
    <message>
      <source>Choose or add a class first: the pictures go into the selected class.</source>
      <translation>先にクラスを選ぶか追加してください。画像は選択中のクラスに入ります。</translation>
    </message>
    <message>
      <source>Importing {count} pictures…</source>
      <translation>{count} 枚の画像を取り込んでいます…</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>キャンセル</translation>
    </message>
    <message>
      <source>Imported {added} picture(s).</source>
      <translation>{added} 枚の画像を取り込みました。</translation>
    </message>
    <message>
      <source>Import</source>
      <translation>取り込み</translation>
    </message>
    <message>
      <source>{summary}

{skipped} file(s) were left out because they are not readable pictures:
{listing}</source>
      <translation>{summary}

読み込めない画像のため、{skipped} 個のファイルを除外しました:
{listing}</translation>
    </message>
    <message>
      <source>Import stopped: {error}</source>
      <translation>取り込みを中止しました: {error}</translation>
    </message>
  </context>
  <context>
    <name>PreCheckList</name>
    <message>
      <source>At least two classes: you have {count}.</source>
      <translation>クラスが 2 つ以上あります: {count} 個。</translation>
    </message>
    <message>
      <source>Add at least two classes (for example “ok” and “defect”). You have {count}.</source>
      <translation>クラスを 2 つ以上追加してください（例:「良品」と「不良」）。現在 {count} 個です。</translation>
    </message>
    <message>
      <source>Every class has pictures.</source>
      <translation>すべてのクラスに画像があります。</translation>
    </message>
    <message>
      <source>These classes have no pictures yet: {classes}. Capture or import some.</source>
      <translation>次のクラスにはまだ画像がありません: {classes}。撮影するか取り込んでください。</translation>
    </message>
    <message>
      <source>Model: the built-in model is ready.</source>
      <translation>モデル: 内蔵モデルを使用できます。</translation>
    </message>
    <message>
      <source>The built-in model cannot be used: {problem}</source>
      <translation>内蔵モデルを使用できません: {problem}</translation>
    </message>
    <message>
      <source>Model: {name} is on this computer.</source>
      <translation>モデル: {name} はこのコンピューターにあります。</translation>
    </message>
    <message>
      <source>Model {name} is not downloaded yet: press Change… next to Model and download it, or choose another.</source>
      <translation>モデル {name} はまだダウンロードされていません。「モデル」の横の「変更…」を押してダウンロードするか、別のモデルを選んでください。</translation>
    </message>
    <message>
      <source>No model chosen: press Change… next to Model.</source>
      <translation>モデルが選ばれていません。「モデル」の横の「変更…」を押してください。</translation>
    </message>
    <message>
      <source>The model arguments under Advanced settings are not valid: write them like {{"img_size": 224}} or leave them empty.</source>
      <translation>「詳細設定」のモデル引数が正しくありません。{{"img_size": 224}} のように書くか、空にしてください。</translation>
    </message>
    <message>
      <source>Model file found: {path}</source>
      <translation>モデルファイルがあります: {path}</translation>
    </message>
    <message>
      <source>Model file not found: {path}. Press Change… next to Model.</source>
      <translation>モデルファイルが見つかりません: {path}。「モデル」の横の「変更…」を押してください。</translation>
    </message>
    <message>
      <source>No model file chosen. Press Change… next to Model.</source>
      <translation>モデルファイルが選ばれていません。「モデル」の横の「変更…」を押してください。</translation>
    </message>
    <message>
      <source>Test model with random values: training works, but the results say nothing about real use.</source>
      <translation>ランダムな値のテスト用モデルです。学習はできますが、結果は実際の性能を表しません。</translation>
    </message>
    <message>
      <source>The model {name} is downloaded once from the internet.</source>
      <translation>モデル {name} をインターネットから 1 回だけダウンロードします。</translation>
    </message>
    <message>
      <source>Few pictures in {classes}: training works, but take at least {minimum} per class to check accuracy.</source>
      <translation>{classes} の画像が少なめです。学習はできますが、精度を確認するには各クラス {minimum} 枚以上撮影してください。</translation>
    </message>
  </context>
  <context>
    <name>PreviewView</name>
    <message>
      <source>No picture source. Choose one above and press Start.</source>
      <translation>映像の入力がありません。上で選んで「開始」を押してください。</translation>
    </message>
    <message>
      <source>Connecting to {source}…</source>
      <translation>{source} に接続しています…</translation>
    </message>
    <message>
      <source>Picture source lost: {source}
Trying to reconnect…</source>
      <translation>映像の入力が途切れました: {source}
再接続しています…</translation>
    </message>
    <message>
      <source>{fps:.0f} frames/s</source>
      <translation>{fps:.0f} フレーム/秒</translation>
    </message>
  </context>
  <context>
    <name>RunsTable</name>
    <message>
      <source>Task</source>
      <translation>タスク</translation>
    </message>
    <message>
      <source>Made</source>
      <translation>作成日時</translation>
    </message>
    <message>
      <source>Classes</source>
      <translation>クラス</translation>
    </message>
    <message>
      <source>Start values</source>
      <translation>初期値</translation>
    </message>
    <message>
      <source>Learned adjustments</source>
      <translation>学習した調整</translation>
    </message>
    <message>
      <source>Right on unseen pictures</source>
      <translation>未学習の画像での正解率</translation>
    </message>
    <message>
      <source>Steps</source>
      <translation>ステップ数</translation>
    </message>
    <message>
      <source>On training pictures</source>
      <translation>学習に使った画像での正解率</translation>
    </message>
    <message>
      <source>Time</source>
      <translation>時間</translation>
    </message>
    <message>
      <source>The first accuracy is the one to trust: it is measured on pictures the task did not learn from. On its own training pictures a task always looks better.</source>
      <translation>信頼できるのは最初の正解率です。タスクが学習していない画像で測っています。学習に使った画像では、タスクは常に実際より良く見えます。</translation>
    </message>
    <message>
      <source>not checked</source>
      <translation>未確認</translation>
    </message>
    <message>
      <source>{accuracy} of {count}</source>
      <translation>{count} 枚中 {accuracy}</translation>
    </message>
    <message>
      <source>{minutes} min {seconds} s</source>
      <translation>{minutes} 分 {seconds} 秒</translation>
    </message>
    <message>
      <source>{seconds} s</source>
      <translation>{seconds} 秒</translation>
    </message>
    <message>
      <source>{time} (training only)</source>
      <translation>{time}（学習のみ）</translation>
    </message>
    <message>
      <source>File size</source>
      <translation>ファイルサイズ</translation>
    </message>
  </context>
  <context>
    <name>SaveBanner</name>
    <message>
      <source>All changes saved</source>
      <translation>すべての変更を保存しました</translation>
    </message>
    <message>
      <source>Saving…</source>
      <translation>保存中…</translation>
    </message>
    <message>
      <source>Could not save the project: {error}</source>
      <translation>プロジェクトを保存できませんでした: {error}</translation>
    </message>
    <message>
      <source>Retry</source>
      <translation>再試行</translation>
    </message>
  </context>
  <context>
    <name>SettingNames</name>
    <message>
      <source>Every layer (deep, more accurate)</source>
      <translation>すべての層（より正確）</translation>
    </message>
    <message>
      <source>First layer only (shallow, faster)</source>
      <translation>最初の層のみ（より高速）</translation>
    </message>
    <message>
      <source>From the pictures: strongest features</source>
      <translation>画像から: 最も強い特徴</translation>
    </message>
    <message>
      <source>From the pictures: typical patterns (k-means)</source>
      <translation>画像から: 代表的なパターン（k-means）</translation>
    </message>
    <message>
      <source>From the pictures: random samples</source>
      <translation>画像から: ランダムな抜き出し</translation>
    </message>
    <message>
      <source>From the pictures: averages</source>
      <translation>画像から: 平均</translation>
    </message>
    <message>
      <source>Random (recommended)</source>
      <translation>ランダム（おすすめ）</translation>
    </message>
    <message>
      <source>Centre of the picture (the model's own; edges are cut off)</source>
      <translation>画像の中央（モデル標準。端は切り取られます）</translation>
    </message>
    <message>
      <source>Whole picture, stretched to fit</source>
      <translation>画像全体（枠に合わせて引き伸ばす）</translation>
    </message>
    <message>
      <source>Whole picture, with borders added</source>
      <translation>画像全体（余白を加えて縦横比を保つ）</translation>
    </message>
    <message>
      <source>averages</source>
      <translation>平均</translation>
    </message>
    <message>
      <source>strongest features</source>
      <translation>最も強い特徴</translation>
    </message>
    <message>
      <source>typical patterns</source>
      <translation>代表的なパターン</translation>
    </message>
    <message>
      <source>samples</source>
      <translation>抜き出し</translation>
    </message>
    <message>
      <source>random</source>
      <translation>ランダム</translation>
    </message>
    <message>
      <source>{count}, first layer</source>
      <translation>{count}、最初の層</translation>
    </message>
    <message>
      <source>{count}, every layer</source>
      <translation>{count}、すべての層</translation>
    </message>
  </context>
  <context>
    <name>SourceBar</name>
    <message>
      <source>Camera</source>
      <translation>カメラ</translation>
    </message>
    <message>
      <source>Video file</source>
      <translation>動画ファイル</translation>
    </message>
    <message>
      <source>Network camera (URL)</source>
      <translation>ネットワークカメラ（URL）</translation>
    </message>
    <message>
      <source>Folder of images</source>
      <translation>画像フォルダー</translation>
    </message>
    <message>
      <source>Camera's own size</source>
      <translation>カメラの標準サイズ</translation>
    </message>
    <message>
      <source>Find cameras</source>
      <translation>カメラを探す</translation>
    </message>
    <message>
      <source>Browse…</source>
      <translation>参照…</translation>
    </message>
    <message>
      <source>Where the pictures come from</source>
      <translation>映像の入力元</translation>
    </message>
    <message>
      <source>Picture size to ask the camera for</source>
      <translation>カメラに要求する画像サイズ</translation>
    </message>
    <message>
      <source>Stop</source>
      <translation>停止</translation>
    </message>
    <message>
      <source>Start</source>
      <translation>開始</translation>
    </message>
    <message>
      <source>Video file, e.g. line3.mp4</source>
      <translation>動画ファイル（例: line3.mp4）</translation>
    </message>
    <message>
      <source>Address, e.g. rtsp://192.168.0.20/stream1</source>
      <translation>アドレス（例: rtsp://192.168.0.20/stream1）</translation>
    </message>
    <message>
      <source>Folder with pictures, played like a camera</source>
      <translation>画像のフォルダー（カメラのように再生）</translation>
    </message>
    <message>
      <source>Choose a folder of images</source>
      <translation>画像フォルダーを選択</translation>
    </message>
    <message>
      <source>Choose a video file</source>
      <translation>動画ファイルを選択</translation>
    </message>
    <message>
      <source>Videos (*.mp4 *.avi *.mov *.mkv);;All files (*)</source>
      <translation>動画 (*.mp4 *.avi *.mov *.mkv);;すべてのファイル (*)</translation>
    </message>
    <message>
      <source>Searching…</source>
      <translation>検索中…</translation>
    </message>
    <message>
      <source>{number} (camera {number})</source>
      <translation>{number}（カメラ {number}）</translation>
    </message>
    <message>
      <source>No camera was found. Check the cable, or choose a video file or a folder of images instead.</source>
      <translation>カメラが見つかりません。ケーブルを確認するか、動画ファイルか画像フォルダーを選んでください。</translation>
    </message>
  </context>
  <context>
    <name>ThumbnailGrid</name>
    <message>
      <source>Delete (can be undone)</source>
      <translation>削除（元に戻せます）</translation>
    </message>
    <message>
      <source>Show larger</source>
      <translation>拡大表示</translation>
    </message>
    <message>
      <source>Double-click to enlarge. Drag pictures onto a class to move them; Ctrl+1…9 moves them to that class; Delete removes them.</source>
      <translation>ダブルクリックで拡大します。画像をクラスにドラッグすると移動します。Ctrl+1…9 でそのクラスに移動、Del キーで削除します。</translation>
    </message>
    <message>
      <source>Move to class</source>
      <translation>クラスへ移動</translation>
    </message>
  </context>
  <context>
    <name>TrainPage</name>
    <message>
      <source>Train a task</source>
      <translation>タスクの学習</translation>
    </message>
    <message>
      <source>Start training</source>
      <translation>学習を開始</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>キャンセル</translation>
    </message>
    <message>
      <source>Earlier runs (select one to see its curves)</source>
      <translation>これまでの学習（選ぶとグラフを表示）</translation>
    </message>
    <message>
      <source>Mistakes: lower is better</source>
      <translation>誤り: 低いほど良い</translation>
    </message>
    <message>
      <source>Accuracy: higher is better</source>
      <translation>正解率: 高いほど良い</translation>
    </message>
    <message>
      <source>training</source>
      <translation>学習用</translation>
    </message>
    <message>
      <source>Ready.</source>
      <translation>準備完了。</translation>
    </message>
    <message>
      <source>Starting…</source>
      <translation>開始しています…</translation>
    </message>
    <message>
      <source>Stopping…</source>
      <translation>停止しています…</translation>
    </message>
    <message>
      <source>Done in {time}.</source>
      <translation>完了（{time}）。</translation>
    </message>
    <message>
      <source>Training cancelled; nothing was saved.</source>
      <translation>学習を中止しました。何も保存していません。</translation>
    </message>
    <message>
      <source>step</source>
      <translation>ステップ</translation>
    </message>
    <message>
      <source>Training: step {step} of {total}</source>
      <translation>学習中: {total} ステップ中 {step} ステップ目</translation>
    </message>
    <message>
      <source>Saved as task “{name}”.</source>
      <translation>タスク「{name}」として保存しました。</translation>
    </message>
    <message>
      <source>It could not be checked on pictures it did not train on: take more pictures per class.</source>
      <translation>学習に使っていない画像で確認できませんでした。クラスごとにもっと画像を撮影してください。</translation>
    </message>
    <message>
      <source>Right on {accuracy:.0f} % of the pictures it did not train on.</source>
      <translation>学習に使っていない画像の {accuracy:.0f} % が正解でした。</translation>
    </message>
    <message>
      <source>Right on {accuracy:.0f} % of {count} pictures it did not train on.</source>
      <translation>学習に使っていない画像 {count} 枚の {accuracy:.0f} % が正解でした。</translation>
    </message>
    <message>
      <source>See the Evaluate page for details.</source>
      <translation>詳しくは「評価」ページを見てください。</translation>
    </message>
    <message>
      <source>Training stopped.</source>
      <translation>学習が止まりました。</translation>
    </message>
    <message>
      <source>Training could not finish: {error}</source>
      <translation>学習を完了できませんでした: {error}</translation>
    </message>
    <message>
      <source>Curves of “{name}”</source>
      <translation>「{name}」のグラフ</translation>
    </message>
  </context>
  <context>
    <name>TrainSettingsForm</name>
    <message>
      <source>Task name</source>
      <translation>タスク名</translation>
    </message>
    <message>
      <source>for example: surface-check</source>
      <translation>例: surface-check</translation>
    </message>
    <message>
      <source>Try other settings on my pictures</source>
      <translation>自分の画像でほかの設定も試す</translation>
    </message>
    <message>
      <source>The app tries a few settings on your pictures and keeps the best. This takes about three times as long.</source>
      <translation>アプリが画像でいくつかの設定を試し、最も良いものを使います。約 3 倍の時間がかかります。</translation>
    </message>
    <message>
      <source>Picture framing</source>
      <translation>画像の切り取り方</translation>
    </message>
    <message>
      <source>Prompt tokens per layer</source>
      <translation>層ごとのプロンプト数</translation>
    </message>
    <message>
      <source>Prompt depth</source>
      <translation>プロンプトの深さ</translation>
    </message>
    <message>
      <source>Prompt start values</source>
      <translation>プロンプトの初期値</translation>
    </message>
    <message>
      <source>Learning rate</source>
      <translation>学習率</translation>
    </message>
    <message>
      <source>Training steps</source>
      <translation>学習ステップ数</translation>
    </message>
    <message>
      <source>Advanced settings</source>
      <translation>詳細設定</translation>
    </message>
    <message>
      <source>Model</source>
      <translation>モデル</translation>
    </message>
    <message>
      <source>Model (timm name, for engineers)</source>
      <translation>モデル（timm 名、技術担当者向け）</translation>
    </message>
    <message>
      <source>Model arguments (JSON, for engineers)</source>
      <translation>モデル引数（JSON、技術担当者向け）</translation>
    </message>
    <message>
      <source>A timm model name, e.g. vit_base_patch16_224.mae. Changing it replaces the model chosen above.</source>
      <translation>timm のモデル名（例: vit_base_patch16_224.mae）。変更すると上で選んだモデルの代わりに使われます。</translation>
    </message>
    <message>
      <source>automatic</source>
      <translation>自動</translation>
    </message>
    <message>
      <source>0: no prompt tokens (only the final layer is trained)</source>
      <translation>0: プロンプトなし（最後の層だけを学習します）</translation>
    </message>
    <message>
      <source>Choose a whole-picture setting when defects can be near the edge.</source>
      <translation>欠陥が画像の端に現れることがある場合は「画像全体」を選んでください。</translation>
    </message>
  </context>
  <context>
    <name>TrainingTexts</name>
    <message>
      <source>A picture was left out because it cannot be read: {path}</source>
      <translation>読み込めない画像を除外しました: {path}</translation>
    </message>
    <message>
      <source>Too few pictures to keep some aside for checking: it trains on all of them and cannot say how well it does on new ones.</source>
      <translation>確認用に取っておけるほど画像がありません。すべての画像で学習するため、新しい画像でどのくらい正しいかはわかりません。</translation>
    </message>
    <message>
      <source>Some classes have only one picture: training works, but its accuracy cannot be checked until you add more.</source>
      <translation>画像が 1 枚しかないクラスがあります。学習はできますが、画像を追加するまで正解率は確認できません。</translation>
    </message>
    <message>
      <source>Stopped early after round {epoch}: it was no longer getting better.</source>
      <translation>{epoch} 回目で早めに終了しました。それ以上良くならなかったためです。</translation>
    </message>
    <message>
      <source>The app tried several settings on your pictures and kept: {chosen}.</source>
      <translation>アプリが画像でいくつかの設定を試し、次の設定を選びました: {chosen}。</translation>
    </message>
    <message>
      <source>the usual settings</source>
      <translation>標準の設定</translation>
    </message>
    <message>
      <source>Loading the model…</source>
      <translation>モデルを読み込んでいます…</translation>
    </message>
    <message>
      <source>Reading pictures…</source>
      <translation>画像を読み込んでいます…</translation>
    </message>
    <message>
      <source>Preparing from your pictures…</source>
      <translation>画像から準備しています…</translation>
    </message>
    <message>
      <source>Training…</source>
      <translation>学習中…</translation>
    </message>
    <message>
      <source>Checking…</source>
      <translation>確認中…</translation>
    </message>
    <message>
      <source>Trying settings on your pictures…</source>
      <translation>画像で設定を試しています…</translation>
    </message>
    <message>
      <source>Working…</source>
      <translation>処理中…</translation>
    </message>
    <message>
      <source>{minutes} min {seconds} s</source>
      <translation>{minutes} 分 {seconds} 秒</translation>
    </message>
    <message>
      <source>{seconds} s</source>
      <translation>{seconds} 秒</translation>
    </message>
    <message>
      <source>{time} so far</source>
      <translation>経過 {time}</translation>
    </message>
    <message>
      <source>about {minutes} min left</source>
      <translation>残り約 {minutes} 分</translation>
    </message>
    <message>
      <source>about {seconds} s left</source>
      <translation>残り約 {seconds} 秒</translation>
    </message>
  </context>
  <context>
    <name>UndoCommands</name>
    <message>
      <source>Add class “{name}”</source>
      <translation>クラス「{name}」の追加</translation>
    </message>
    <message>
      <source>Rename class “{old}” to “{new}”</source>
      <translation>クラス名「{old}」を「{new}」に変更</translation>
    </message>
    <message>
      <source>Delete class “{name}”</source>
      <translation>クラス「{name}」の削除</translation>
    </message>
    <message>
      <source>Delete {count} image(s)</source>
      <translation>画像 {count} 枚の削除</translation>
    </message>
    <message>
      <source>Move {count} image(s) to “{name}”</source>
      <translation>画像 {count} 枚を「{name}」へ移動</translation>
    </message>
    <message>
      <source>Import {count} image(s)</source>
      <translation>画像 {count} 枚の取り込み</translation>
    </message>
    <message>
      <source>Add {count} classes from folders</source>
      <translation>フォルダーから {count} 個のクラスを追加</translation>
    </message>
  </context>
  <context>
    <name>VerdictBanner</name>
    <message>
      <source>✔ Good: {label}</source>
      <translation>✔ 良品: {label}</translation>
    </message>
    <message>
      <source>✖ Defect: {label}</source>
      <translation>✖ 不良: {label}</translation>
    </message>
    <message>
      <source>? Not sure — check this part by hand</source>
      <translation>? 判定できません — この部品は人が確認してください</translation>
    </message>
    <message>
      <source>Not inspecting</source>
      <translation>検査していません</translation>
    </message>
    <message>
      <source>Waiting for the first result…</source>
      <translation>最初の結果を待っています…</translation>
    </message>
  </context>
  <context>
    <name>WelcomePage</name>
    <message>
      <source>Welcome</source>
      <translation>ようこそ</translation>
    </message>
    <message>
      <source>Teach the inspection station to recognise your parts: take pictures of each kind of part or defect, train a task, check it, and send it to the station.</source>
      <translation>検査ステーションに部品を見分けさせましょう。部品や不良の種類ごとに画像を撮影し、タスクを学習させ、確認してからステーションに送ります。</translation>
    </message>
    <message>
      <source>New project…  (Ctrl+N)</source>
      <translation>新しいプロジェクト…  (Ctrl+N)</translation>
    </message>
    <message>
      <source>Open project…  (Ctrl+O)</source>
      <translation>プロジェクトを開く…  (Ctrl+O)</translation>
    </message>
    <message>
      <source>Try the demo project</source>
      <translation>デモプロジェクトを試す</translation>
    </message>
    <message>
      <source>Recent projects</source>
      <translation>最近のプロジェクト</translation>
    </message>
  </context>
</TS>
